//! `tenantctl export-audit`: audit CSV export (being built).

use clap::Args;

use crate::ctx::Global;
use crate::output::Failure;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Tenant id or slug.
    #[arg(long)]
    pub tenant: String,
}

pub async fn run(_g: &Global, _a: ExportArgs) -> Result<(), Failure> {
    Err(Failure::usage(
        "export-audit is not available in this build yet",
    ))
}

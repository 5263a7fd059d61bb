//! `tenantctl check`: the isolation check (being built).

use clap::Args;

use crate::ctx::Global;
use crate::output::Failure;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Also run the live probe: ask each tenant table for another tenant's rows, inside the tenant scope.
    #[arg(long)]
    pub probe: bool,
}

pub async fn run(_g: &Global, _a: CheckArgs) -> Result<(), Failure> {
    Err(Failure::usage("check is not available in this build yet"))
}

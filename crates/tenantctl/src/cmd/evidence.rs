//! `tenantctl signing-key show` and `tenantctl verify`: the export's evidence, for auditors.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tenant_console_core::export;
use tenant_console_core::secret::Secrets;
use tenant_console_core::signing::{PublicKey, SigningIdentity};

use crate::ctx::Global;
use crate::output::{print_object, Failure, Format, EXIT_ERROR, EXIT_UNKNOWN_KEY};

#[derive(Subcommand, Debug)]
pub enum SigningKeyCmd {
    /// Print the public key that signs export manifests, and its fingerprint, to give to auditors (the key is
    /// made on first use and kept in the system keyring only).
    Show,
    /// Trust another public key for `verify` (an export server's, a colleague's), under a name.
    Trust {
        /// The key, ed25519:… as `signing-key show` prints it.
        key: String,
        /// What to call it in verifications.
        #[arg(long)]
        name: String,
    },
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The exported file.
    pub file: PathBuf,
    /// Its manifest (default: FILE.manifest.json beside it).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// The public key the manifest must be signed with (ed25519:..., as `signing-key show` prints it). Without
    /// it, this machine's own key and the trusted keys (`signing-key trust`) are trusted; a manifest signed by
    /// any other key fails with exit code 4.
    #[arg(long, value_name = "KEY")]
    pub public_key: Option<String>,
    /// Also count the manifest's range again in the tenant's scope on this profile's database and report any
    /// difference, and find the database's own record of this file (the SHA-256 the console wrote when the
    /// export ended): a file the database never witnessed fails (a read of the tenant: its reason policy
    /// applies, and it is recorded).
    #[arg(long, value_name = "PROFILE")]
    pub against: Option<String>,
}

/// The verification, with the recount when one was asked for (its fields beside the file's).
#[derive(serde::Serialize)]
struct VerifyOutput<'a> {
    #[serde(flatten)]
    report: &'a export::Verification,
    #[serde(skip_serializing_if = "Option::is_none")]
    recount: Option<&'a export::Recount>,
}

pub async fn signing_key(g: &Global, cmd: SigningKeyCmd) -> Result<(), Failure> {
    match cmd {
        SigningKeyCmd::Show => {
            let key = SigningIdentity::load_or_create(&Secrets::system()?).await?;
            let public = key.public_key();
            print_object(
                g.format(),
                &serde_json::json!({
                    "public_key": public.to_text(),
                    "fingerprint": public.fingerprint(),
                    "algorithm": "ed25519",
                }),
            )
        }
        SigningKeyCmd::Trust { key, name } => {
            let key = PublicKey::parse(&key)?;
            let file = export::trust_key(&name, &key)?;
            print_object(
                g.format(),
                &serde_json::json!({"trusted": name, "fingerprint": key.fingerprint(), "file": file}),
            )
        }
    }
}

pub async fn verify(g: &Global, a: VerifyArgs) -> Result<(), Failure> {
    let trusted =
        export::trusted_keys(a.public_key.as_deref(), Secrets::system().ok().as_ref()).await?;
    let report = export::verify(&a.file, a.manifest.as_deref(), &trusted)?;
    let recount = match &a.against {
        None => None,
        Some(profile) => {
            let manifest_file = a
                .manifest
                .clone()
                .unwrap_or_else(|| export::manifest_path(&a.file));
            let manifest = export::read_manifest(&manifest_file)?;
            let conn = crate::ctx::connect_profile(g, profile).await?;
            Some(export::recount(&conn.door, &manifest, conn.reason(g)?.as_ref()).await?)
        }
    };
    print_object(
        g.format(),
        &VerifyOutput {
            report: &report,
            recount: recount.as_ref(),
        },
    )?;
    if let Some(r) = recount.as_ref().filter(|r| r.witnessed.is_none()) {
        let _ = r;
        return Err(Failure {
            result_printed: g.format() == Format::Json,
            ..Failure::with_exit(
                "verify_not_witnessed",
                format!(
                    "the database holds no record of an export of this file (no export-complete record with its SHA-256 {} in the tenant's access log): it is not a file the console exported as it is",
                    report.sha256
                ),
                EXIT_ERROR,
            )
        });
    }
    if let Some(r) = recount.as_ref().filter(|r| r.difference != 0) {
        return Err(Failure {
            result_printed: g.format() == Format::Json,
            ..Failure::with_exit(
                "verify_failed",
                format!(
                    "the range holds {} events now in the tenant's scope, the export {} ({:+})",
                    r.rows_now, r.rows_in_manifest, r.difference
                ),
                EXIT_ERROR,
            )
        });
    }
    if report.ok {
        if let Some(t) = &report.trusted_as {
            eprintln!("tenantctl: signed by {t}");
        }
        return Ok(());
    }
    // The file is intact and validly signed, by a key no one here vouches for: its own exit code.
    if report.unknown_key && report.problems.len() == 1 {
        return Err(Failure {
            result_printed: g.format() == Format::Json,
            ..Failure::with_exit(
                "verify_unknown_key",
                report.problems[0].clone(),
                EXIT_UNKNOWN_KEY,
            )
        });
    }
    Err(Failure {
        result_printed: g.format() == Format::Json,
        ..Failure::with_exit(
            "verify_failed",
            format!(
                "{} does not match its manifest: {}",
                a.file.display(),
                report.problems.join("; ")
            ),
            EXIT_ERROR,
        )
    })
}

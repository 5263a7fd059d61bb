//! The door: the only way to a [`TenantScope`], for the app, the CLI and the export alike.
//!
//! Every tenant read passes the same rules, here and nowhere else: the tenant is resolved against the tenants
//! table; a login that row-level security does not apply to is refused unless the user acknowledged that; the
//! profile's reason policy is applied; and the access is recorded in the support-access log before anything is
//! read (the record must come back, see [`super::record`]). Under the policy `required`, the reason given when a
//! tenant is opened becomes a time-limited **grant** held by the door (one record per grant, not per page), and
//! every later read of that tenant checks it: a page that skips opening the tenant, or comes after the grant
//! expired, is refused before anything is read. An export is recorded before its first byte, always.
//!
//! Records go to the connected database, or, for a profile that reads from a hot standby, to the primary its
//! `record_to` names ([`Door::records_on`]): reading on the replica and recording on the primary is then one
//! operation. A standby with no primary named is refused before anything is read, whenever a record is needed.
//!
//! `TenantScope::open` is crate-private and this module is the only caller outside the export's own snapshot
//! connections (which take an [`ExportPass`], made only here), so no entry point can go around the door.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::consent::{self, AccessStatus, Approval, ConsentScope, Request};
use super::{record_action, require, AccessAction, AccessReason, ReasonPolicy, Recorded};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::scope::{Tenant, TenantScope};
use crate::tenants::{self, TenantPage, TenantQuery, TenantRow, TenantStatsRow};

/// How long a reason given when opening a tenant lasts, unless the profile says otherwise.
pub const DEFAULT_GRANT: Duration = Duration::from_secs(30 * 60);

/// A reason-backed permission to read one tenant, held by the door until it expires.
#[derive(Clone, Debug)]
struct Grant {
    reason: Option<AccessReason>,
    until: Instant,
}

/// What opening a tenant gave.
#[derive(Clone, Debug, Serialize)]
pub struct Opened {
    pub tenant: Tenant,
    /// Status, plan and creation date, from the row the tenant was resolved from (absent when the mapping has
    /// no such column): a suspended customer must be seen at once.
    pub status: Option<String>,
    pub plan: Option<String>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether this open wrote an access record (`None`: nothing needed recording, or a live grant covered it).
    pub recorded: Option<Recorded>,
    /// The id of the access record this open wrote.
    pub record_id: Option<String>,
    /// Seconds the grant lasts from now, under the policy `required`.
    pub grant_seconds: Option<u64>,
    /// The tenant requires its own approval, and this is the live one that let it open (its id is in the
    /// access record; the app shows the time it has left and closes the tenant when it ends).
    pub approval: Option<Approval>,
}

/// Proof that an export of `tenant` passed the door and was recorded before anything was read.
#[derive(Clone, Debug)]
pub struct ExportPass {
    pub(crate) tenant: Tenant,
    pub(crate) reason: Option<AccessReason>,
    pub(crate) recorded: Recorded,
    pub(crate) record_id: Option<String>,
    pub(crate) approval: Option<Approval>,
}

impl ExportPass {
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    pub fn recorded(&self) -> Recorded {
        self.recorded
    }

    /// The id of the export's access record.
    pub fn record_id(&self) -> Option<&str> {
        self.record_id.as_deref()
    }

    /// The tenant's approval the export went through, where the tenant requires one.
    pub fn approval(&self) -> Option<&Approval> {
        self.approval.as_ref()
    }
}

/// The door of one connected database, with its profile's reason policy and the grants given so far.
/// Which fleet and shard a door reads (an export's manifest names them).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardFacts {
    pub fleet: String,
    /// The shard's profile.
    pub shard: String,
}

pub struct Door {
    db: Db,
    /// Where records are written when not on `db` (the primary of a standby).
    recorder: Option<Db>,
    /// How messages name what the console is connected to (`profile "prod-replica"`).
    label: String,
    /// Whether the door was opened for a profile (whose `record_to` can then be set).
    for_profile: bool,
    policy: ReasonPolicy,
    grant_for: Duration,
    grants: Mutex<HashMap<String, Grant>>,
    /// The fleet and shard this door was opened as (an export's manifest names them).
    shard: Option<ShardFacts>,
}

impl Door {
    /// A door for `db` under `policy`; reasons given when opening a tenant last `grant_for`.
    pub fn new(db: Db, policy: ReasonPolicy, grant_for: Duration) -> Self {
        let label = format!("the server at {}", db.target());
        Door {
            db,
            recorder: None,
            label,
            for_profile: false,
            policy,
            grant_for: grant_for.max(Duration::from_secs(1)),
            grants: Mutex::new(HashMap::new()),
            shard: None,
        }
    }

    /// Marks the door as the shard `shard` of the fleet `fleet` (found there by a fleet lookup).
    pub fn as_shard(mut self, fleet: &str, shard: &str) -> Self {
        self.shard = Some(ShardFacts {
            fleet: fleet.to_owned(),
            shard: shard.to_owned(),
        });
        self
    }

    /// The fleet and shard this door reads, when it was opened as a shard.
    pub fn shard(&self) -> Option<&ShardFacts> {
        self.shard.as_ref()
    }

    /// Names what the door is connected to in its messages (`profile "prod-replica"`).
    pub fn named(mut self, label: &str) -> Self {
        self.label = label.to_owned();
        self.for_profile = true;
        self
    }

    /// Writes this door's access records on `primary` (connected with the profile `record_to` names), under
    /// the same rules: the tenant set in the record's transaction, the record read back in its scope there.
    /// A primary that is itself a standby is refused.
    pub fn records_on(mut self, primary: Db, primary_label: &str) -> Result<Self> {
        if primary.login().standby {
            return Err(Error::Standby(format!(
                "{primary_label}, where {} records its accesses, is a hot standby too: record_to must name the primary's profile",
                self.label
            )));
        }
        self.recorder = Some(primary);
        Ok(self)
    }

    /// The database records are written on, or why none can be: a standby with no primary named.
    fn recorder(&self, what: &str) -> Result<&Db> {
        match &self.recorder {
            Some(primary) => Ok(primary),
            None if self.db.login().standby => Err(self.standby_error(what)),
            None => Ok(&self.db),
        }
    }

    /// What every read checks first: RLS applies to the login (or that was accepted), and the support-access
    /// log the mapping names exists where records go. A named log that cannot be found (misspelled, dropped,
    /// invisible to the login) refuses every read: only a mapping that says `[access_log] none = true` reads
    /// without one.
    fn ready_to_read(&self) -> Result<()> {
        self.db.ensure_isolated()?;
        if let Some(why) = &self.db.schema().consent_unbound {
            return Err(Error::Mapping(format!(
                "the consent tables the mapping names cannot be used on {} ({why}), so the console cannot tell which tenants require their approval and reads nothing: fix [consent] in the mapping, or remove it if this database keeps no consent",
                self.label
            )));
        }
        for db in std::iter::once(&self.db).chain(self.recorder.as_ref()) {
            if let Some(name) = &db.schema().access_log_unbound {
                return Err(Error::AccessNotRecorded(format!(
                    "the support-access log {name} that the mapping names cannot be found on {} (or this login may not see it), so nothing is read: fix its name in the mapping, grant the login SELECT and INSERT on it, or say [access_log] none = true if this database keeps no access log",
                    if std::ptr::eq(db, &self.db) { self.label.clone() } else { "the primary".to_owned() }
                )));
            }
        }
        Ok(())
    }

    /// Refuses at once, before the tenant is even looked up, when a record will be needed and cannot be
    /// written (a standby with no primary named).
    fn can_record(&self, what: &str) -> Result<()> {
        if self.db.schema().tables.access_log.is_some() {
            self.recorder(what)?;
        }
        Ok(())
    }

    fn standby_error(&self, what: &str) -> Error {
        let fix = if self.for_profile {
            "Name the primary's profile where this profile's accesses are recorded (its \"record accesses on\" setting, record_to), or connect to the primary"
        } else {
            "Connect with a profile whose accesses are recorded on the primary (its \"record accesses on\" setting, record_to), or connect to the primary"
        };
        Error::Standby(format!(
            "{} is a hot standby (a read-only replica), where the support-access record of this {what} cannot be written, so nothing was read. {fix}",
            self.label
        ))
    }

    /// Records on the recorder; a write refused as read-only (a standby promoted the other way, or
    /// `default_transaction_read_only`) gets the standby's message.
    async fn record(
        &self,
        what: &str,
        tenant: &Tenant,
        reason: Option<&AccessReason>,
        action: &AccessAction,
        approval: Option<&Approval>,
    ) -> Result<(Recorded, Option<String>)> {
        let db = self.recorder(what)?;
        // The route of the database the data is read from (not the recorder's).
        let route = self.db.route_info();
        let route = (route.via != "direct" || route.password_command).then_some(route);
        let approval = approval.map(|a| a.id.as_str());
        match record_action(db, tenant, reason, action, route.as_ref(), approval).await {
            Err(Error::ReadOnly) => Err(self.standby_error(what)),
            other => other,
        }
    }

    /// The connected database (who the login is, the isolation check's catalog reads).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Where access records are written: the primary `record_to` named, else the connected database.
    pub fn records_to(&self) -> &str {
        self.recorder.as_ref().unwrap_or(&self.db).target()
    }

    pub fn policy(&self) -> ReasonPolicy {
        self.policy
    }

    fn live_grant(&self, tenant_id: &str) -> Option<Grant> {
        let mut grants = self.grants.lock().expect("not poisoned");
        let now = Instant::now();
        grants.retain(|_, g| g.until > now);
        grants.get(tenant_id).cloned()
    }

    /// The live approval a tenant that requires consent needs for `need`, read in a short transaction with
    /// the tenant set; `None` for a tenant that does not require one. Refused (`consent_required`) before
    /// anything is read when none is live.
    async fn consent(&self, row: &TenantRow, need: ConsentScope) -> Result<Option<Approval>> {
        if !row.consent_required {
            return Ok(None);
        }
        Ok(Some(consent::gate_now(&self.db, &row.tenant, need).await?))
    }

    /// Asks `key`'s tenant for access: writes a request (where records go) that the tenant's admins answer
    /// in the product. The reason is always required.
    pub async fn request_access(
        &self,
        key: &str,
        reason: &AccessReason,
        minutes: u32,
        scope: ConsentScope,
    ) -> Result<(Tenant, Request)> {
        self.can_record("access request")?;
        let row = self.resolve_row(key).await?;
        let db = self.recorder("access request")?;
        let req = match consent::request(db, &row.tenant, reason, minutes, scope).await {
            Err(Error::ReadOnly) => return Err(self.standby_error("access request")),
            other => other?,
        };
        Ok((row.tenant, req))
    }

    /// Where this login stands with `key`'s tenant: not required, none, pending, approved (by whom, until
    /// when), expired or revoked.
    pub async fn access_status(&self, key: &str) -> Result<AccessStatus> {
        let row = self.resolve_row(key).await?;
        consent::status(&self.db, &row.tenant, row.consent_required).await
    }

    async fn resolve_row(&self, key: &str) -> Result<TenantRow> {
        self.ready_to_read()?;
        tenants::resolve_row(&self.db, key).await
    }

    /// Opens a tenant to browse it: applies the reason policy and records the access (under `required`,
    /// once per grant). Opening again with a live grant and no new reason records nothing.
    #[tracing::instrument(skip(self, reason))]
    pub async fn open(&self, key: &str, reason: Option<&AccessReason>) -> Result<Opened> {
        if self.policy != ReasonPolicy::Off || reason.is_some() {
            self.can_record("access")?;
        }
        let row = self.resolve_row(key).await?;
        let approval = self.consent(&row, ConsentScope::Read).await?;
        let TenantRow {
            tenant,
            status,
            plan,
            created_at,
            ..
        } = row;
        if reason.is_none() {
            if let Some(grant) = self.live_grant(&tenant.id) {
                return Ok(Opened {
                    tenant,
                    status,
                    plan,
                    created_at,
                    recorded: None,
                    record_id: None,
                    grant_seconds: Some(
                        grant
                            .until
                            .saturating_duration_since(Instant::now())
                            .as_secs(),
                    ),
                    approval,
                });
            }
        }
        require(self.policy, reason)?;
        let must_record = self.policy != ReasonPolicy::Off || reason.is_some();
        let (recorded, record_id) = if must_record {
            let (recorded, id) = self
                .record(
                    "access",
                    &tenant,
                    reason,
                    &AccessAction::View,
                    approval.as_ref(),
                )
                .await?;
            if recorded == Recorded::NoLogTable && self.policy == ReasonPolicy::Required {
                return Err(Error::ReasonRequired(
                    "this profile requires access reasons, but the database has no support-access log to record them in (the isolation check prints the SQL that adds one)".into(),
                ));
            }
            (Some(recorded), id)
        } else {
            (None, None)
        };
        let mut grant_seconds = None;
        if must_record {
            let until = Instant::now() + self.grant_for;
            self.grants.lock().expect("not poisoned").insert(
                tenant.id.clone(),
                Grant {
                    reason: reason.cloned(),
                    until,
                },
            );
            grant_seconds = Some(self.grant_for.as_secs());
        }
        Ok(Opened {
            tenant,
            status,
            plan,
            created_at,
            recorded,
            record_id,
            grant_seconds,
            approval,
        })
    }

    /// A read-only scope for a tenant. Under `required`, the tenant must have been opened with a reason whose
    /// grant is still live; otherwise nothing is read.
    pub async fn scope(&self, key: &str) -> Result<TenantScope> {
        self.ready_to_read()?;
        // One transaction for the lookup and the reads: a page is one BEGIN and one COMMIT.
        let mut tx = self.db.read_tx().await?;
        let row = tenants::resolve_row_on(&mut tx, &self.db, key).await?;
        self.check_grant(&row.tenant)?;
        let mut scope = TenantScope::enter(&self.db, tx, &row.tenant).await?;
        if row.consent_required {
            // In the page's own transaction: an approval revoked a moment ago stops this very page.
            consent::gate(
                scope.conn(),
                self.db.schema(),
                &row.tenant,
                ConsentScope::Read,
            )
            .await?;
        }
        Ok(scope)
    }

    /// Opens a tenant (as [`Door::open`]) and its scope: one command's whole read (the CLI's).
    pub async fn open_scope(
        &self,
        key: &str,
        reason: Option<&AccessReason>,
    ) -> Result<(Opened, TenantScope)> {
        let opened = self.open(key, reason).await?;
        self.check_grant(&opened.tenant)?;
        let scope = TenantScope::open(&self.db, &opened.tenant).await?;
        Ok((opened, scope))
    }

    fn check_grant(&self, tenant: &Tenant) -> Result<()> {
        if self.policy == ReasonPolicy::Required && self.live_grant(&tenant.id).is_none() {
            return Err(Error::ReasonRequired(format!(
                "this profile requires a reason to read a tenant: open {} with a reason first (a reason lasts {} minutes)",
                tenant.label(),
                self.grant_for.as_secs().div_ceil(60)
            )));
        }
        Ok(())
    }

    /// Passes an export through the door: the reason is the one given now, or the live grant's; the export is
    /// recorded (with `details`) before a byte of tenant data is read, and does not start if that fails.
    pub async fn export(
        &self,
        key: &str,
        reason: Option<&AccessReason>,
        details: serde_json::Value,
    ) -> Result<ExportPass> {
        self.can_record("export")?;
        let row = self.resolve_row(key).await?;
        let approval = self.consent(&row, ConsentScope::Export).await?;
        let tenant = row.tenant;
        let granted = self.live_grant(&tenant.id).and_then(|g| g.reason);
        let reason = reason.cloned().or(granted);
        require(self.policy, reason.as_ref())?;
        let (recorded, record_id) = self
            .record(
                "export",
                &tenant,
                reason.as_ref(),
                &AccessAction::Export { details },
                approval.as_ref(),
            )
            .await?;
        if recorded == Recorded::NoLogTable && self.policy == ReasonPolicy::Required {
            return Err(Error::ReasonRequired(
                "this profile requires access reasons, but the database has no support-access log to record the export in".into(),
            ));
        }
        Ok(ExportPass {
            tenant,
            reason,
            recorded,
            record_id,
            approval,
        })
    }

    /// Records that an export passed with `pass` finished (rows, bytes, file), where its start was recorded.
    pub async fn record_completion(
        &self,
        pass: &ExportPass,
        details: serde_json::Value,
    ) -> Result<()> {
        if pass.recorded != Recorded::Yes {
            return Ok(());
        }
        self.record(
            "export",
            &pass.tenant,
            pass.reason.as_ref(),
            &AccessAction::Completed { details },
            pass.approval.as_ref(),
        )
        .await?;
        Ok(())
    }

    /// A page of the tenant list (the tenants table is not tenant-scoped), refused for a bypassing login
    /// unless acknowledged, like every tenant read.
    pub async fn tenants(&self, q: &TenantQuery) -> Result<TenantPage> {
        self.ready_to_read()?;
        tenants::list(&self.db, q).await
    }

    /// The tenant `key` (an id or a slug) names, from the tenants table, without opening it: where a fleet
    /// looks for a tenant's shard. Refused for a bypassing login unless acknowledged, like the list.
    pub async fn locate(&self, key: &str) -> Result<Tenant> {
        self.ready_to_read()?;
        tenants::resolve(&self.db, key).await
    }

    /// Stats for the tenants of a list page, each read in its own scope through the door. Under `required`
    /// only tenants with a live grant are read; the others are left out (their numbers are tenant data).
    pub async fn stats(&self, ids: &[String]) -> Result<Vec<TenantStatsRow>> {
        self.ready_to_read()?;
        let found = tenants::resolve_ids(&self.db, ids).await?;
        let mut out = Vec::with_capacity(found.len());
        for row in found {
            let tenant = row.tenant;
            if self.policy == ReasonPolicy::Required && self.live_grant(&tenant.id).is_none() {
                continue;
            }
            let mut scope = TenantScope::open(&self.db, &tenant).await?;
            // A tenant that requires consent shows its numbers only while an approval is live.
            if row.consent_required
                && consent::live_approval(
                    scope.conn(),
                    self.db.schema(),
                    &tenant,
                    ConsentScope::Read,
                )
                .await?
                .is_none()
            {
                continue;
            }
            let stats = tenants::stats(&mut scope).await?;
            scope.finish().await?;
            out.push(TenantStatsRow {
                tenant_id: tenant.id,
                stats,
            });
        }
        Ok(out)
    }
}

//! Actor emails for the export: the tenant's members read once inside the scope, other actors looked up once
//! each in the (global) users table.

use std::collections::HashMap;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::sql::col;

/// Emails of the tenant's members, read once inside the scope.
pub(super) async fn member_emails(
    db: &Db,
    scope: &mut crate::TenantScope,
) -> Result<HashMap<String, Option<String>>> {
    let s = db.schema();
    let (Some(u), Some(ut), false) = (
        &s.mapping.users,
        &s.tables.users,
        s.audit_masked("actor_email"),
    ) else {
        return Ok(HashMap::new());
    };
    let m = &s.mapping.members;
    let sql = format!(
        "SELECT u.{}::text, u.{}::text FROM {} m JOIN {} u ON u.{} = m.{} WHERE m.{} = CAST($1 AS {})",
        col(&u.id),
        col(&u.email),
        s.tables.members.name,
        ut.name,
        col(&u.id),
        col(&m.user_id),
        col(&m.tenant_id),
        s.tenant_id_type.cast()
    );
    let tenant = scope.tenant().id.clone();
    let rows: Vec<(String, Option<String>)> = crate::sql::query_as(&sql)
        .bind(tenant)
        .fetch_all(scope.conn())
        .await?;
    Ok(rows.into_iter().collect())
}

/// Actor id -> email: the members' emails, and other actors looked up once each in the (global) users table.
pub(super) struct Lookup {
    db: Db,
    cache: HashMap<String, Option<String>>,
}

impl Lookup {
    pub(super) fn new(db: Db, cache: HashMap<String, Option<String>>) -> Self {
        Lookup { db, cache }
    }

    pub(super) fn email(
        &mut self,
        handle: &tokio::runtime::Handle,
        actor: &str,
    ) -> Result<Option<&str>> {
        if !self.cache.contains_key(actor) {
            let s = self.db.schema();
            let found = match (
                &s.mapping.users,
                &s.tables.users,
                s.audit_masked("actor_email"),
            ) {
                (Some(u), Some(ut), false) => {
                    let sql = format!(
                        "SELECT {}::text FROM {} WHERE {}::text = $1",
                        col(&u.email),
                        ut.name,
                        col(&u.id)
                    );
                    let db = self.db.clone();
                    let actor = actor.to_owned();
                    handle
                        .block_on(async move {
                            let mut tx = db.read_tx().await?;
                            let found = crate::sql::query_scalar::<Option<String>>(&sql)
                                .bind(actor)
                                .fetch_optional(&mut *tx)
                                .await?;
                            tx.commit().await?;
                            Ok::<_, Error>(found)
                        })?
                        .flatten()
                }
                _ => None,
            };
            self.cache.insert(actor.to_owned(), found);
        }
        Ok(self.cache.get(actor).and_then(|e| e.as_deref()))
    }
}

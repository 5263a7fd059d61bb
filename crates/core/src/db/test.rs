//! Testing a connection the way a person sets one up: connect once, then say what works and, when something
//! does not, the doctor's diagnosis ([`crate::doctor`], which only diagnoses and connects to nothing).

use serde::Serialize;

use crate::doctor::{diagnose, Diagnosis, DiagnosisKind, Target};

/// The outcome of testing a connection: who the login is, or why it failed.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct ConnectionReport {
    pub ok: bool,
    /// Where, without the password.
    pub target: String,
    pub server_version: Option<String>,
    pub login: Option<super::LoginInfo>,
    /// Why row-level security does not apply to this login (empty when it does).
    pub bypass_reasons: Vec<String>,
    /// Whether the server is a standby (and how far behind), and whether a pooler stands in between.
    pub server: Option<super::ServerRole>,
    pub diagnosis: Option<Diagnosis>,
    /// How the server was reached: directly, or through the SSH hops with their host keys.
    pub route: Option<super::RouteInfo>,
}

/// Connects once and says what works: reachability, TLS, authentication, the database, the mapped tables
/// and the privileges on them, and who the login is.
pub async fn test_connection(
    spec: &super::ConnectSpec,
    mapping: crate::mapping::Mapping,
) -> ConnectionReport {
    let mut report = ConnectionReport {
        ok: false,
        target: spec.redacted_url(),
        server_version: None,
        login: None,
        bypass_reasons: Vec::new(),
        server: None,
        diagnosis: None,
        route: None,
    };
    let (mut conn, route) = match spec.connect_once().await {
        Ok((c, route)) => (c, route),
        Err(crate::Error::Connect(d)) => {
            report.diagnosis = Some(d);
            return report;
        }
        Err(other) => {
            report.diagnosis = Some(Diagnosis::new(
                DiagnosisKind::Other,
                other.to_string(),
                "see the log",
            ));
            return report;
        }
    };
    report.route = Some(route.info());
    let mut conn = match sqlx::Connection::begin(&mut conn).await {
        Ok(tx) => tx,
        Err(e) => {
            report.diagnosis = Some(diagnose(&e, &spec_target(spec)));
            return report;
        }
    };
    report.server_version = crate::sql::query_scalar("SELECT current_setting('server_version')")
        .fetch_one(&mut *conn)
        .await
        .ok();
    match super::ServerRole::read(&mut conn, spec.port).await {
        Ok(role) => report.server = Some(role),
        Err(e) => tracing::info!(error = %e, "could not read the server's role"),
    }
    let schema = match crate::mapping::Schema::bind(&mut conn, mapping).await {
        Ok(s) => s,
        Err(e) => {
            report.diagnosis = Some(Diagnosis::new(
                DiagnosisKind::Other,
                e.to_string(),
                "check the mapping file against the database, and that this login can see the tables",
            ));
            return report;
        }
    };
    let t = &schema.tables;
    let mut tables = vec![&t.tenants, &t.members, &t.audit];
    tables.extend(t.users.iter());
    tables.extend(t.roles.iter());
    for table in tables {
        let probe = format!("SELECT 1 FROM {} LIMIT 0", table.name);
        if let Err(e) = crate::sql::query(&probe).execute(&mut *conn).await {
            let denied =
                matches!(&e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42501"));
            report.diagnosis = Some(if denied {
                Diagnosis::new(
                    DiagnosisKind::Privileges,
                    format!("user {:?} may not read {}", spec.user, table.name),
                    "GRANT SELECT on the tenant tables (and USAGE on their schema) to this login",
                )
            } else {
                diagnose(&e, &spec_target(spec))
            });
            return report;
        }
    }
    match super::LoginInfo::read(&mut conn, &schema).await {
        Ok(login) => {
            report.bypass_reasons = login.bypass_reasons();
            report.login = Some(login);
            report.ok = true;
        }
        Err(e) => {
            report.diagnosis = Some(Diagnosis::new(
                DiagnosisKind::Other,
                e.to_string(),
                "see the log",
            ));
        }
    }
    conn.rollback().await.ok();
    report
}

fn spec_target(spec: &super::ConnectSpec) -> Target {
    Target {
        host: spec.host.clone(),
        port: spec.port,
        database: spec.database.clone(),
        user: spec.user.clone(),
    }
}

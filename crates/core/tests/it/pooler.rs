//! The console behind a real PgBouncer (Debian's 1.18, started by the test on a free port in front of the test
//! server) in transaction mode: eight clients on two server connections run browse, export and the isolation
//! check at once with zero errors and zero foreign rows; another client's session-level SET left on a pooled
//! server connection is reported by the probe (proved with rows), and never changes what the console reads.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::common::{TestDb, READER_PASSWORD};
use sqlx::{Connection, Executor, PgConnection};
use tenant_console_core::access::{Door, ReasonPolicy, DEFAULT_GRANT};
use tenant_console_core::audit::{self, AuditFilter};
use tenant_console_core::export::{export_to_path, ExportOptions};
use tenant_console_core::isolation::{self, CheckOptions};
use tenant_console_core::members::{self, MemberQuery};
use tenant_console_core::sql::Statements;
use tenant_console_core::tenants::TenantQuery;
use tenant_console_core::{ConnectSpec, Db, DbOptions, Mapping};
use tenant_console_dev::pooler::{Pooler, PoolerOptions};

fn pooler(pool_size: u32) -> Pooler {
    let admin = crate::common::admin_options();
    Pooler::start(&PoolerOptions {
        upstream_host: admin.get_host().to_owned(),
        upstream_port: admin.get_port(),
        mode: "transaction",
        pool_size,
        users: vec!["console_reader".into(), "postgres".into()],
    })
    .expect("PgBouncer starts (Debian's pgbouncer package)")
}

async fn connect(p: &Pooler, t: &TestDb, max: u32) -> Db {
    let spec = ConnectSpec::from_url(&p.url("console_reader", READER_PASSWORD, &t.name)).unwrap();
    Db::connect(
        &spec,
        Mapping::reference(),
        DbOptions {
            max_connections: max,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("connect through PgBouncer: {e}\n{}", p.log()))
}

/// Ground truth, read by the superuser directly: each tenant's member user ids and audit event ids.
async fn truth(t: &TestDb) -> HashMap<String, (HashSet<String>, HashSet<String>)> {
    let mut out: HashMap<String, (HashSet<String>, HashSet<String>)> = HashMap::new();
    let members: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.slug, m.user_id::text FROM memberships m JOIN tenants t ON t.id = m.tenant_id",
    )
    .fetch_all(&t.admin)
    .await
    .unwrap();
    for (slug, id) in members {
        out.entry(slug).or_default().0.insert(id);
    }
    let events: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.slug, a.id::text FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id",
    )
    .fetch_all(&t.admin)
    .await
    .unwrap();
    for (slug, id) in events {
        out.entry(slug).or_default().1.insert(id);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_clients_on_two_pooled_connections_browse_export_and_check_without_an_error() {
    let t = TestDb::demo().await;
    let p = Arc::new(pooler(2));
    let truth = Arc::new(truth(&t).await);
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let slugs = ["acme", "globex", "initech", "umbrella"];
    let mut clients = Vec::new();
    for client in 0..8usize {
        let (p, truth, dir) = (p.clone(), truth.clone(), dir.clone());
        let name = t.name.clone();
        let t = TestDb {
            name,
            admin: t.admin.clone(),
        };
        clients.push(tokio::spawn(async move {
            let db = connect(&p, &t, 3).await;
            // Found by itself: the server's port is not the one connected to.
            assert_eq!(db.statements(), Statements::Unnamed);
            // Every open and export is recorded: the access-log write goes through the pooler too.
            let door = Door::new(db.clone(), ReasonPolicy::Optional, DEFAULT_GRANT);
            let reason = "support-ticket:POOL-1".parse().unwrap();
            let mut ops = 0;
            for round in 0..4usize {
                let slug = slugs[(client + round) % slugs.len()];
                let (members_truth, events_truth) = &truth[slug];
                match (client + round) % 4 {
                    0 | 1 => {
                        let page = door
                            .tenants(&TenantQuery {
                                limit: 50,
                                ..Default::default()
                            })
                            .await
                            .unwrap();
                        assert!(page.items.len() >= slugs.len());
                        let (_, mut scope) = door.open_scope(slug, Some(&reason)).await.unwrap();
                        let m = members::list(
                            &mut scope,
                            &MemberQuery {
                                limit: 100,
                                ..Default::default()
                            },
                        )
                        .await
                        .unwrap();
                        assert!(!m.items.is_empty());
                        for row in &m.items {
                            assert!(
                                members_truth.contains(&row.id),
                                "{slug}: member {} is not theirs",
                                row.id
                            );
                        }
                        let a = audit::page(&mut scope, &AuditFilter::default(), 50, None)
                            .await
                            .unwrap();
                        assert!(!a.items.is_empty());
                        for e in &a.items {
                            assert!(
                                events_truth.contains(&e.id),
                                "{slug}: event {} is not theirs",
                                e.id
                            );
                        }
                        scope.finish().await.unwrap();
                    }
                    2 => {
                        let path = dir.path().join(format!("{client}-{round}-{slug}.csv"));
                        let summary = export_to_path(
                            &door,
                            slug,
                            &ExportOptions::default(),
                            Some(&reason),
                            &path,
                            &Arc::new(AtomicBool::new(false)),
                            |_| {},
                        )
                        .await
                        .unwrap();
                        assert_eq!(summary.rows as usize, events_truth.len(), "{slug}");
                        let mut r = csv::Reader::from_path(&path).unwrap();
                        let id_col = r.headers().unwrap().iter().position(|h| h == "id").unwrap();
                        let mut seen = 0;
                        for rec in r.records() {
                            let rec = rec.unwrap();
                            assert!(events_truth.contains(&rec[id_col]), "{slug}: foreign row");
                            seen += 1;
                        }
                        assert_eq!(seen, events_truth.len());
                    }
                    _ => {
                        let report = isolation::check(
                            &db,
                            &CheckOptions {
                                probe: true,
                                sample: 2,
                                ..Default::default()
                            },
                        )
                        .await
                        .unwrap();
                        assert!(
                            report.isolation_enforced,
                            "the demo schema is isolated: {:#?}",
                            report.findings
                        );
                        assert!(!report.evidence.is_empty());
                    }
                }
                ops += 1;
            }
            db.close().await;
            ops
        }));
    }
    let mut done = 0;
    for c in clients {
        done += c.await.expect("a client failed (see its panic)");
    }
    assert_eq!(done, 32);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_clients_session_set_on_a_pooled_connection_is_reported_and_never_read_through() {
    let t = TestDb::demo().await;
    // One server connection: every client of console_reader shares it, as under load.
    let p = pooler(1);
    let ids: HashMap<String, String> = t.tenant_ids().await.into_iter().collect();
    let url: sqlx::postgres::PgConnectOptions = p
        .url("console_reader", READER_PASSWORD, &t.name)
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .extra_float_digits(None);

    // Another client of the same login (an app server, say) sets the tenant for its session and leaves.
    let mut other = PgConnection::connect_with(&url).await.unwrap();
    other
        .execute(format!("SET app.current_tenant_id = '{}'", ids["acme"]).as_str())
        .await
        .unwrap();
    other.close().await.unwrap();

    // The escape, as a client of that login that never sets the tenant: does it read acme's rows?
    let mut naive = PgConnection::connect_with(&url).await.unwrap();
    let leaked: i64 = sqlx::raw_sql("SELECT count(*) FROM memberships")
        .fetch_one(&mut naive)
        .await
        .map(|row| sqlx::Row::get(&row, 0))
        .unwrap();
    naive.close().await.unwrap();
    let escaped = leaked > 0;
    assert!(
        escaped,
        "the residue is real behind a transaction-mode pooler"
    );

    let db = connect(&p, &t, 1).await;
    let report = isolation::check(
        &db,
        &CheckOptions {
            probe: true,
            sample: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        report.isolation_enforced, !escaped,
        "{:#?}",
        report.findings
    );
    let residue: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "PROBE_POOLED_RESIDUE")
        .collect();
    assert!(!residue.is_empty(), "{:#?}", report.findings);
    assert!(
        residue.iter().any(|f| f.problem.contains(&ids["acme"])),
        "{residue:#?}"
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.code == "PROBE_SETTING_PRESET"),
        "no ALTER ROLE/DATABASE SET here: it is residue, not a preset"
    );
    assert!(
        report
            .evidence
            .iter()
            .any(|e| e.state == "residue" && e.foreign_rows > 0),
        "the probe proves the residue with rows: {:#?}",
        report.evidence
    );

    // The console itself reads globex as globex, residue or not: its scope sets the tenant per transaction.
    let door = Door::new(db.clone(), ReasonPolicy::Off, DEFAULT_GRANT);
    let truth = truth(&t).await;
    let mut scope = door.scope("globex").await.unwrap();
    let m = members::list(
        &mut scope,
        &MemberQuery {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(m.items.len(), truth["globex"].0.len());
    assert!(m.items.iter().all(|r| truth["globex"].0.contains(&r.id)));
    scope.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_connection_report_says_a_pooler_stands_in_between() {
    let t = TestDb::demo().await;
    let p = pooler(2);
    let spec = ConnectSpec::from_url(&p.url("console_reader", READER_PASSWORD, &t.name)).unwrap();
    let report = tenant_console_core::db::test_connection(&spec, Mapping::reference()).await;
    assert!(report.ok, "{report:?}");
    let server = report.server.expect("the server's role is read");
    assert!(!server.standby);
    assert_eq!(
        Some(crate::common::admin_options().get_port()),
        server.pooler_port,
        "{server:?}"
    );
    assert!(
        server.describe().contains("pooler"),
        "{}",
        server.describe()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_pooler_an_export_is_never_split_so_a_small_pool_does_not_stall() {
    let t = TestDb::demo().await;
    sqlx::query(
        "INSERT INTO audit_logs (tenant_id, action, created_at)
         SELECT id, 'bulk.event', now() - interval '1 second' * g FROM tenants, generate_series(1, 60000) g
          WHERE slug = 'initech'",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    // Fresh statistics, so the export knows it is big enough to split.
    sqlx::query("ANALYZE audit_logs")
        .execute(&t.admin)
        .await
        .unwrap();
    // One server connection: slices would each need one, and wait for the pooler's query_wait_timeout.
    let p = pooler(1);
    let db = connect(&p, &t, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("initech.csv");
    let summary = export_to_path(
        &Door::new(db, ReasonPolicy::Off, DEFAULT_GRANT),
        "initech",
        &ExportOptions {
            jobs: 4,
            ..Default::default()
        },
        None,
        &path,
        &Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", p.log()));
    assert!(summary.rows > 60_000);
}

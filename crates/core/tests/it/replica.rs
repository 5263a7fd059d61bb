//! The console on a real streaming replica: a private primary (a cluster of the test's own, seeded with the
//! demo data) and a hot standby made from it with `pg_basebackup -R`. Browsing the standby works; a read that
//! must be recorded is refused there before anything is read or streamed, unless the primary is named, and
//! then the record lands on the primary under the right tenant.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use tenant_console_core::access::{Door, ReasonPolicy, Recorded, DEFAULT_GRANT};
use tenant_console_core::export::{export_to_path, export_to_writer, ExportOptions};
use tenant_console_core::members::{self, MemberQuery};
use tenant_console_core::sql::Statements;
use tenant_console_core::{ConnectSpec, Db, DbOptions, Mapping, TlsMode};
use tenant_console_dev::cluster::ProcessServer;
use tenant_console_dev::testing::ReplicaPair;

const READER_PW: &str = "replica-reader-pw";
const DB: &str = ReplicaPair::DB;

static PAIR: tokio::sync::OnceCell<ReplicaPair> = tokio::sync::OnceCell::const_new();

async fn pair() -> &'static ReplicaPair {
    PAIR.get_or_init(|| ReplicaPair::start(READER_PW)).await
}

fn reader_spec(s: &ProcessServer) -> ConnectSpec {
    ConnectSpec {
        host: "127.0.0.1".into(),
        port: s.port,
        database: DB.into(),
        user: "console_reader".into(),
        password: Some(SecretString::from(READER_PW)),
        tls: TlsMode::Disable,
        ca_file: None,
        connect_timeout: Duration::from_secs(10),
        password_command: None,
        ssh: None,
    }
}

async fn reader(s: &ProcessServer) -> Db {
    Db::connect(&reader_spec(s), Mapping::reference(), DbOptions::default())
        .await
        .unwrap()
}

async fn records(primary: &ProcessServer, tenant_slug: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT l.id::text, l.action, l.detail FROM support_access_log l JOIN tenants t ON t.id = l.tenant_id
          WHERE t.slug = $1 ORDER BY l.id",
    )
    .bind(tenant_slug)
    .fetch_all(&ReplicaPair::admin(primary).await)
    .await
    .unwrap()
}

async fn all_records(primary: &ProcessServer) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM support_access_log")
        .fetch_one(&ReplicaPair::admin(primary).await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_standby_says_what_it_is_and_browsing_it_needs_nothing() {
    let p = pair().await;
    let report =
        tenant_console_core::db::test_connection(&reader_spec(&p.standby), Mapping::reference())
            .await;
    assert!(report.ok, "{report:?}");
    let server = report.server.unwrap();
    assert!(server.standby);
    assert!(server.replay_lag_bytes.is_some(), "{server:?}");
    assert!(
        server.describe().contains("standby"),
        "{}",
        server.describe()
    );
    let primary =
        tenant_console_core::db::test_connection(&reader_spec(&p.primary), Mapping::reference())
            .await;
    assert!(!primary.server.unwrap().standby);

    let db = reader(&p.standby).await;
    assert!(db.login().standby);
    // Connected directly, the browse path keeps its statements prepared; a profile's `pooled` says otherwise.
    assert_eq!(db.statements(), Statements::Kept);
    let told = Db::connect(
        &reader_spec(&p.standby),
        Mapping::reference(),
        DbOptions {
            pooled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(told.statements(), Statements::Unnamed);
    let door = Door::new(db, ReasonPolicy::Off, DEFAULT_GRANT);
    let mut scope = door.scope("acme").await.unwrap();
    let m = members::list(
        &mut scope,
        &MemberQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!m.items.is_empty());
    scope.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_read_on_a_standby_without_a_primary_is_refused_before_anything_is_read() {
    let p = pair().await;
    let before = all_records(&p.primary).await;
    let db = reader(&p.standby).await;
    let reason = "support-ticket:REPL-1".parse().unwrap();

    let door = Door::new(db.clone(), ReasonPolicy::Optional, DEFAULT_GRANT)
        .named("profile \"prod-replica\"");
    let e = door.open("acme", Some(&reason)).await.unwrap_err();
    assert_eq!(e.kind(), "standby", "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("prod-replica") && msg.contains("record_to"),
        "{msg}"
    );

    let required = Door::new(db.clone(), ReasonPolicy::Required, DEFAULT_GRANT);
    assert_eq!(
        required
            .open("acme", Some(&reason))
            .await
            .unwrap_err()
            .kind(),
        "standby"
    );
    assert_eq!(
        required.scope("acme").await.err().unwrap().kind(),
        "reason_required"
    );

    // An export is always recorded: refused, and no byte reaches the file or the stream.
    let off = Door::new(db.clone(), ReasonPolicy::Off, DEFAULT_GRANT);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.csv");
    let e = export_to_path(
        &off,
        "acme",
        &ExportOptions::default(),
        Some(&reason),
        &path,
        &Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "standby", "{e}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file, no partial"
    );

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let e = export_to_writer(
        &off,
        "acme",
        &ExportOptions::default(),
        Some(&reason),
        Box::new(sink.clone()),
        &Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "standby", "{e}");
    assert!(sink.0.lock().unwrap().is_empty(), "nothing streamed");
    assert_eq!(
        all_records(&p.primary).await,
        before,
        "nothing recorded anywhere"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_primary_named_the_replica_reads_and_the_primary_records_under_the_right_tenant() {
    let p = pair().await;
    let standby = reader(&p.standby).await;
    let primary = reader(&p.primary).await;

    // A standby cannot be the record target.
    let e = Door::new(standby.clone(), ReasonPolicy::Required, DEFAULT_GRANT)
        .records_on(reader(&p.standby).await, "profile \"other-replica\"")
        .err()
        .unwrap();
    assert_eq!(e.kind(), "standby");

    let door = Door::new(standby, ReasonPolicy::Required, DEFAULT_GRANT)
        .records_on(primary, "profile \"prod-primary\"")
        .unwrap();
    let before = records(&p.primary, "globex").await;
    let reason = "incident:INC-42 replica".parse().unwrap();
    let (opened, mut scope) = door.open_scope("globex", Some(&reason)).await.unwrap();
    assert_eq!(opened.recorded, Some(Recorded::Yes));
    let m = members::list(
        &mut scope,
        &MemberQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!m.items.is_empty());
    scope.finish().await.unwrap();
    let after = records(&p.primary, "globex").await;
    assert_eq!(after.len(), before.len() + 1);
    let last = after.last().unwrap();
    assert_eq!(Some(&last.0), opened.record_id.as_ref());
    assert_eq!(
        (last.1.as_str(), last.2.as_str()),
        ("view", "INC-42 replica")
    );
    // Not on any other tenant.
    let acme: i64 = records(&p.primary, "acme")
        .await
        .iter()
        .filter(|r| r.2 == "INC-42 replica")
        .count() as i64;
    assert_eq!(acme, 0);

    // An export reads the replica and records its start and end on the primary.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("globex.csv");
    let summary = export_to_path(
        &door,
        "globex",
        &ExportOptions::default(),
        None,
        &path,
        &Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap();
    assert!(summary.rows > 0);
    let actions: Vec<String> = records(&p.primary, "globex")
        .await
        .into_iter()
        .skip(after.len())
        .map(|r| r.1)
        .collect();
    assert_eq!(actions, ["export", "export-complete"]);
}

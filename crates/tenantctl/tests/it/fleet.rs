//! `tenantctl fleet` and `--fleet`, the real binary over a fleet of real databases: three shards on the test
//! server (one slug on two of them, one shard leaking), and a shard that refuses connections.

use serde_json::Value;
use tenant_console_dev::testing::{self, READER_PASSWORD};

use crate::common::{Cli, Run};

struct Fleet {
    cli: Cli,
    shards: Vec<testing::TestDb>,
}

/// `console_reader` on the test server's database `db` (no password in the URL: it is typed with
/// --password-stdin, offered to every shard).
fn reader_url(db: &str, port: u16) -> String {
    let o = testing::admin_options();
    format!(
        "postgres://console_reader@{}:{port}/{db}?sslmode=disable",
        o.get_host()
    )
}

async fn fleet() -> Fleet {
    let cli = Cli::new();
    let port = testing::admin_options().get_port();
    let mut shards = Vec::new();
    for (name, slugs) in [
        ("shard-a", &["acme", "globex"][..]),
        ("shard-b", &["initech", "twin"][..]),
        ("shard-c", &["umbrella", "twin"][..]),
    ] {
        let db = testing::TestDb::empty().await;
        for slug in slugs {
            sqlx::query("INSERT INTO tenants (slug, name) VALUES ($1, initcap($1))")
                .bind(slug)
                .execute(&db.admin)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO audit_logs (tenant_id, action) SELECT id, 'auth.login' FROM tenants",
        )
        .execute(&db.admin)
        .await
        .unwrap();
        let add = cli.run(&["profile", "add", name, "--url", &reader_url(&db.name, port)]);
        assert_eq!(add.code, 0, "{add:?}");
        shards.push(db);
    }
    // shard-c leaks: a policy for the login that does not pin the tenant.
    sqlx::query("CREATE POLICY leak ON audit_logs FOR SELECT TO console_reader USING (true)")
        .execute(&shards[2].admin)
        .await
        .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = closed.local_addr().unwrap().port();
    drop(closed);
    let add = cli.run(&["profile", "add", "down", "--url", &reader_url("app", down)]);
    assert_eq!(add.code, 0, "{add:?}");
    let made = cli.run(&[
        "--format",
        "json",
        "fleet",
        "add",
        "eu",
        "shard-a",
        "shard-b",
        "down",
        "shard-c",
        "--max-connections",
        "3",
    ]);
    assert_eq!(made.code, 0, "{made:?}");
    Fleet { cli, shards }
}

impl Fleet {
    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        all.push("--password-stdin");
        self.cli.run_with(&all, &[], Some(READER_PASSWORD))
    }
}

#[tokio::test]
async fn a_fleet_is_searched_as_one_each_row_naming_its_shard_and_the_down_shard_named() {
    let f = fleet().await;
    let list = f.cli.run(&["--format", "json", "fleet", "list"]).ok_json();
    assert_eq!(list["items"][0]["name"], "eu");
    assert_eq!(list["items"][0]["shards"], 4);
    assert_eq!(list["items"][0]["max_connections"], 3);

    let found = f.run(&["tenants", "--fleet", "eu"]).ok_json();
    let rows: Vec<(String, String)> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["slug"].as_str().unwrap().to_owned(),
                r["shard"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("acme", "shard-a"),
        ("globex", "shard-a"),
        ("initech", "shard-b"),
        ("twin", "shard-b"),
        ("twin", "shard-c"),
        ("umbrella", "shard-c"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(rows, want);
    assert_eq!(found["fleet"], "eu");
    assert_eq!(found["unavailable"][0]["shard"], "down");
    assert_eq!(found["unavailable"][0]["kind"], "connect_refused");

    // A table says it too, in a line of its own.
    let table = f.cli.run_with(
        &[
            "--format",
            "table",
            "tenants",
            "--fleet",
            "eu",
            "--password-stdin",
        ],
        &[],
        Some(READER_PASSWORD),
    );
    assert_eq!(table.code, 0, "{table:?}");
    assert!(
        table
            .stdout
            .contains("shard down did not answer (connect_refused)"),
        "{}",
        table.stdout
    );

    let status = f.run(&["fleet", "status", "eu"]).ok_json();
    let answered: Vec<bool> = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["answered"].as_bool().unwrap())
        .collect();
    assert_eq!(answered, vec![true, true, false, true]);
    assert_eq!(status["items"][0]["role"], "primary");
}

#[tokio::test]
async fn a_tenant_command_finds_the_shard_and_reads_through_its_door_and_records_there() {
    let f = fleet().await;
    let t = f.run(&["tenant", "--fleet", "eu", "--tenant", "initech"]);
    let v = t.ok_json();
    assert_eq!(v["shard"], "shard-b");
    assert_eq!(v["fleet"], "eu");
    assert_eq!(v["tenant"]["slug"], "initech");
    assert!(
        t.stderr.contains("shard down did not answer"),
        "{}",
        t.stderr
    );

    // The export goes through shard-a's door: recorded there, and the manifest names the fleet and the shard.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("acme.csv");
    let export = f.run(&[
        "export-audit",
        "--fleet",
        "eu",
        "--tenant",
        "acme",
        "--out",
        out.to_str().unwrap(),
        "--unsigned",
    ]);
    assert_eq!(export.code, 0, "{export:?}");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("acme.csv.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["shard"]["fleet"], "eu");
    assert_eq!(manifest["shard"]["shard"], "shard-a");
    assert_eq!(manifest["tenant"]["slug"], "acme");
    for (i, want) in [(0usize, true), (1, false), (2, false)] {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM support_access_log")
            .fetch_one(&f.shards[i].admin)
            .await
            .unwrap();
        assert_eq!(n > 0, want, "access records on shard {i}: {n}");
    }

    // A slug on two shards is refused with both named; a tenant nowhere names the shard that did not answer.
    let twin = f.run(&["tenant", "--fleet", "eu", "--tenant", "twin"]);
    assert_eq!(twin.code, 2, "{twin:?}");
    assert!(
        twin.stderr.contains("shard-b") && twin.stderr.contains("shard-c"),
        "{}",
        twin.stderr
    );
    let nowhere = f.run(&["members", "--fleet", "eu", "--tenant", "nowhere"]);
    assert_eq!(nowhere.code, 1, "{nowhere:?}");
    assert_eq!(nowhere.json()["error"]["kind"], "unknown_tenant");
    assert!(
        nowhere.stderr.contains("down (connect_refused)"),
        "{}",
        nowhere.stderr
    );

    // With a directory (a table on shard-a), a lookup asks it and the one shard it names: the down shard is not
    // asked, so nothing says it did not answer.
    sqlx::raw_sql(
        "CREATE TABLE tenant_directory (tenant_id text, slug text, shard text);
         GRANT SELECT ON tenant_directory TO console_reader;
         INSERT INTO tenant_directory VALUES ('-', 'initech', 'shard-b')",
    )
    .execute(&f.shards[0].admin)
    .await
    .unwrap();
    let made = f.cli.run(&[
        "fleet",
        "add",
        "eu-dir",
        "shard-a",
        "shard-b",
        "down",
        "shard-c",
        "--directory",
        "shard-a",
        "--directory-sql",
        "SELECT tenant_id, slug, shard FROM tenant_directory",
    ]);
    assert_eq!(made.code, 0, "{made:?}");
    let t = f.run(&["tenant", "--fleet", "eu-dir", "--tenant", "initech"]);
    assert_eq!(t.ok_json()["shard"], "shard-b");
    assert!(!t.stderr.contains("did not answer"), "{}", t.stderr);

    // --fleet where it means nothing, and beside --profile, is refused.
    let verify = f
        .cli
        .run(&["verify", "--fleet", "eu", out.to_str().unwrap()]);
    assert_eq!(verify.code, 2, "{verify:?}");
    let both = f.run(&["tenants", "--fleet", "eu", "--profile", "shard-a"]);
    assert_eq!(both.code, 2, "{both:?}");
}

#[tokio::test]
async fn check_over_a_fleet_names_the_leaking_shard_and_exits_3() {
    let f = fleet().await;
    let r = f.run(&["check", "--fleet", "eu", "--probe"]);
    assert_eq!(r.code, 3, "{r:?}");
    let v = r.json();
    assert_eq!(v["isolation_enforced"], false);
    assert_eq!(v["leaking"], serde_json::json!(["shard-c"]));
    assert_eq!(v["unavailable"], serde_json::json!(["down"]));
    assert!(r.stderr.contains("leaking on shard-c"), "{}", r.stderr);
    let verdicts: Vec<bool> = v["shards"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["report"]["isolation_enforced"].as_bool())
        .collect();
    assert_eq!(verdicts, vec![true, true, false]);

    // The fleet of the two that hold, with the budget of one shard's check: enforced, exit 0.
    let made = f.cli.run(&[
        "fleet",
        "add",
        "holding",
        "shard-a",
        "shard-b",
        "--max-connections",
        "3",
    ]);
    assert_eq!(made.code, 0, "{made:?}");
    let ok = f.run(&["check", "--fleet", "holding", "--probe"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.json()["isolation_enforced"], true);
}

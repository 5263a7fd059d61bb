//! A fleet of real databases on the test server: six shards with tenants of their own (one slug on two of
//! them), one shard whose RLS leaks (a policy that shows every row), and one shard that refuses connections.
//! The connection budget is proven by counting the server's backends while the fleet is searched and checked.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tenant_console_core::error::Error;
use tenant_console_core::fleet::{self, Fleet, FleetStore, Shards};
use tenant_console_core::isolation::CheckOptions;
use tenant_console_core::profile::{ConnectHow, Passwords, Profile, ProfileStore, TypedPassword};
use tenant_console_core::tenants::{TenantQuery, TenantSort};
use tenant_console_core::TlsMode;
use tenant_console_dev::testing::{admin_options, TestDb, READER_PASSWORD};

struct Lab {
    shards: Vec<TestDb>,
    /// The reader's password, typed for every shard's profile (as `--password-stdin` would be).
    typed: Vec<TypedPassword>,
    store: ProfileStore,
    fleets: FleetStore,
    _dir: tempfile::TempDir,
}

/// A shard's profile: console_reader on the test server's database `db`.
fn profile(name: &str, port: u16, db: &str) -> Profile {
    let o = admin_options();
    let mut p = Profile::new(name, o.get_host(), port, db, "console_reader");
    p.tls = TlsMode::Disable;
    p
}

async fn lab() -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let store = ProfileStore::at(dir.path().join("profiles.toml"));
    let fleets = FleetStore::at(dir.path().join("fleets.toml"));
    let mut shards = Vec::new();
    for i in 1..=6 {
        let db = TestDb::empty().await;
        let mut slugs = vec![format!("shop-{i}"), format!("cafe-{i}")];
        if i == 2 || i == 4 {
            slugs.push("twin".into());
        }
        for slug in &slugs {
            sqlx::query(
                "INSERT INTO tenants (slug, name) VALUES ($1, initcap(replace($1, '-', ' ')))",
            )
            .bind(slug)
            .execute(&db.admin)
            .await
            .unwrap();
        }
        // Every tenant has audit events: the leak below has rows to show.
        sqlx::query(
            "INSERT INTO audit_logs (tenant_id, action) SELECT id, 'auth.login' FROM tenants, generate_series(1, 3)",
        )
        .execute(&db.admin)
        .await
        .unwrap();
        store
            .save(&profile(
                &format!("shard-{i}"),
                admin_options().get_port(),
                &db.name,
            ))
            .unwrap();
        shards.push(db);
    }
    // Shard 5 leaks: a permissive policy for the login that does not pin the tenant.
    sqlx::query("CREATE POLICY leak ON audit_logs FOR SELECT TO console_reader USING (true)")
        .execute(&shards[4].admin)
        .await
        .unwrap();
    // A shard that refuses connections: a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    store.save(&profile("shard-down", port, "app")).unwrap();
    let typed = store
        .list()
        .unwrap()
        .iter()
        .map(|p| TypedPassword::for_profile(p, READER_PASSWORD.to_owned().into()))
        .collect();
    Lab {
        shards,
        typed,
        store,
        fleets,
        _dir: dir,
    }
}

impl Lab {
    fn passwords(&self) -> Passwords<'_> {
        Passwords {
            typed: &self.typed,
            keyring: None,
        }
    }
}

fn all_shards() -> Fleet {
    let mut profiles: Vec<String> = (1..=6).map(|i| format!("shard-{i}")).collect();
    profiles.insert(3, "shard-down".into());
    Fleet {
        name: "eu".into(),
        profiles,
        max_connections: None,
        directory: None,
    }
}

fn how() -> ConnectHow {
    ConnectHow {
        allow_bypass: false,
        mapping: None,
        accept_host_keys: Vec::new(),
        pool: None,
    }
}

/// Counts console_reader's backends on the shards' databases every millisecond until stopped; the highest
/// count seen.
fn watch_backends(databases: Vec<String>) -> (Arc<AtomicBool>, tokio::task::JoinHandle<i64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicI64::new(0));
    let handle = {
        let (stop, most) = (stop.clone(), most.clone());
        tokio::spawn(async move {
            let admin = sqlx::PgPool::connect_with(admin_options()).await.unwrap();
            while !stop.load(Ordering::Relaxed) {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = 'console_reader' AND datname = ANY($1)",
                )
                .bind(&databases)
                .fetch_one(&admin)
                .await
                .unwrap();
                most.fetch_max(n, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            most.load(Ordering::Relaxed)
        })
    };
    (stop, handle)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_is_named_profiles_kept_beside_them() {
    let lab = lab().await;
    let f = all_shards();
    lab.fleets.save(&f, &lab.store).unwrap();
    assert_eq!(lab.fleets.get("eu").unwrap(), f);
    assert_eq!(lab.fleets.list().unwrap().len(), 1);
    // A shard must be a profile, named once.
    let unknown = Fleet {
        profiles: vec!["shard-1".into(), "nowhere".into()],
        ..f.clone()
    };
    assert_eq!(
        lab.fleets.save(&unknown, &lab.store).unwrap_err().kind(),
        "unknown_profile"
    );
    let twice = Fleet {
        profiles: vec!["shard-1".into(), "shard-1".into()],
        ..f.clone()
    };
    assert!(lab
        .fleets
        .save(&twice, &lab.store)
        .unwrap_err()
        .to_string()
        .contains("named twice"));
    lab.fleets.remove("eu").unwrap();
    assert!(lab.fleets.list().unwrap().is_empty());
    assert!(lab.fleets.remove("eu").is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_search_merges_the_shards_names_each_row_and_the_shard_that_did_not_answer() {
    let lab = lab().await;
    let shards = Shards::open(&all_shards(), &lab.store, Some(3)).unwrap();
    let databases: Vec<String> = lab.shards.iter().map(|s| s.name.clone()).collect();
    let (stop, watcher) = watch_backends(databases);
    let q = TenantQuery {
        search: Some("shop".into()),
        sort: TenantSort::Name,
        limit: 100,
        after: None,
    };
    let page = fleet::search(&shards, lab.passwords(), &how(), &q).await;
    stop.store(true, Ordering::Relaxed);
    let most = watcher.await.unwrap();
    let got: Vec<(String, String)> = page
        .items
        .iter()
        .map(|r| (r.row.tenant.slug().unwrap().to_owned(), r.shard.clone()))
        .collect();
    let want: Vec<(String, String)> = (1..=6)
        .map(|i| (format!("shop-{i}"), format!("shard-{i}")))
        .collect();
    assert_eq!(got, want);
    assert!(!page.more);
    assert_eq!(page.unavailable.len(), 1);
    assert_eq!(page.unavailable[0].shard, "shard-down");
    assert_eq!(page.unavailable[0].kind, "connect_refused");
    // The budget: never more than 3 of the login's backends on the shards at once, and some were seen.
    assert!(most <= 3, "{most} backends open at once, the budget is 3");
    assert!(most >= 1, "the watcher saw no backend at all");
    // A limit cuts the merged list, and says there was more.
    let cut = fleet::search(
        &shards,
        lab.passwords(),
        &how(),
        &TenantQuery {
            search: None,
            limit: 4,
            ..q
        },
    )
    .await;
    assert_eq!(cut.items.len(), 4);
    assert!(cut.more);
    assert_eq!(cut.items[0].row.tenant.slug(), Some("cafe-1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_is_found_on_its_shard_a_slug_on_two_is_refused_and_not_found_names_who_did_not_answer(
) {
    let lab = lab().await;
    let shards = Shards::open(&all_shards(), &lab.store, None).unwrap();
    let found = fleet::locate(&shards, lab.passwords(), &how(), "shop-5")
        .await
        .unwrap();
    assert_eq!(found.shard, "shard-5");
    assert_eq!(found.tenant.slug(), Some("shop-5"));
    assert_eq!(found.unavailable.len(), 1, "the down shard is named");
    // By id too.
    let id = found.tenant.id().to_owned();
    let by_id = fleet::locate(&shards, lab.passwords(), &how(), &id)
        .await
        .unwrap();
    assert_eq!(by_id.shard, "shard-5");

    let twin = fleet::locate(&shards, lab.passwords(), &how(), "twin")
        .await
        .unwrap_err();
    let msg = twin.to_string();
    assert!(msg.contains("shard-2") && msg.contains("shard-4"), "{msg}");

    let none = fleet::locate(&shards, lab.passwords(), &how(), "nowhere")
        .await
        .unwrap_err();
    assert!(matches!(none, Error::NotOnFleet { .. }));
    assert_eq!(none.kind(), "unknown_tenant");
    let msg = none.to_string();
    assert!(msg.contains("the 6 shards that answered"), "{msg}");
    assert!(msg.contains("shard-down (connect_refused)"), "{msg}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fleet_check_names_the_leaking_shard_within_the_budget_and_earns_no_enforced() {
    let lab = lab().await;
    let f = all_shards();
    let shards = Shards::open(&f, &lab.store, Some(4)).unwrap();
    let databases: Vec<String> = lab.shards.iter().map(|s| s.name.clone()).collect();
    let (stop, watcher) = watch_backends(databases);
    let report = fleet::check(
        &f,
        &shards,
        lab.passwords(),
        &how(),
        &CheckOptions {
            probe: true,
            tenant: None,
            sample: 2,
            accepted: Vec::new(),
        },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let most = watcher.await.unwrap();
    assert!(most <= 4, "{most} backends open at once, the budget is 4");
    assert_eq!(report.leaking, vec!["shard-5".to_owned()]);
    assert_eq!(report.unavailable, vec!["shard-down".to_owned()]);
    assert!(!report.isolation_enforced);
    assert_eq!(report.shards.len(), 7);
    for v in &report.shards {
        if v.shard != "shard-5" && v.shard != "shard-down" {
            assert!(v.report.as_ref().unwrap().isolation_enforced, "{}", v.shard);
        }
    }
    // The truth the verdict claims, as the login: on shard 5, another tenant's rows are readable with the
    // tenant set; on shard 1 they are not.
    for (i, leaks) in [(4usize, true), (0, false)] {
        let reader = lab.shards[i].reader_pool(1).await;
        let mut tx = reader.begin().await.unwrap();
        let (mine,): (String,) =
            sqlx::query_as("SELECT id::text FROM tenants WHERE slug LIKE 'shop-%'")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        sqlx::query("SELECT set_config('app.current_tenant_id', $1, true)")
            .bind(&mine)
            .execute(&mut *tx)
            .await
            .unwrap();
        let (foreign,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM audit_logs WHERE tenant_id <> $1::uuid")
                .bind(&mine)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert_eq!(foreign > 0, leaks, "shard {}", i + 1);
    }

    // Without the leaking and the down shard, the fleet holds.
    let holding = Fleet {
        name: "holding".into(),
        profiles: vec!["shard-1".into(), "shard-2".into()],
        max_connections: Some(3),
        directory: None,
    };
    let opts = CheckOptions {
        probe: true,
        tenant: None,
        sample: 2,
        accepted: Vec::new(),
    };
    // A budget below what one shard's check holds at once is refused, not overrun.
    let small = Shards::open(&holding, &lab.store, Some(2)).unwrap();
    let refused = fleet::check(&holding, &small, lab.passwords(), &how(), &opts).await;
    assert!(!refused.isolation_enforced);
    assert_eq!(refused.unavailable.len(), 2);
    let why = &refused.shards[0].unavailable.as_ref().unwrap().message;
    assert!(why.contains("budget is 2"), "{why}");
    let shards = Shards::open(&holding, &lab.store, None).unwrap();
    let report = fleet::check(
        &holding,
        &shards,
        lab.passwords(),
        &how(),
        &CheckOptions {
            probe: true,
            tenant: None,
            sample: 2,
            accepted: Vec::new(),
        },
    )
    .await;
    assert!(report.isolation_enforced, "{:?}", report.leaking);
}

#[tokio::test(flavor = "multi_thread")]
async fn fleet_status_says_what_each_shard_is_and_which_did_not_answer() {
    let lab = lab().await;
    let shards = Shards::open(&all_shards(), &lab.store, None).unwrap();
    let status = fleet::status(&shards, lab.passwords(), &how()).await;
    assert_eq!(status.len(), 7);
    for s in &status {
        if s.shard == "shard-down" {
            assert!(!s.answered);
            assert_eq!(s.unavailable.as_ref().unwrap().kind, "connect_refused");
        } else {
            assert!(s.answered, "{}", s.shard);
            assert_eq!(s.role, Some("primary"));
            assert!(s.server_version.as_deref().unwrap().starts_with("1"));
            assert!(s.latency_ms.unwrap() > 0.0);
        }
    }
}

/// A shard whose login bypasses RLS (here the superuser) is refused through its door as it is with its profile
/// alone: its tenants are not listed, and it is named as not answering, with the reason.
#[tokio::test(flavor = "multi_thread")]
async fn a_shard_whose_login_bypasses_rls_lists_nothing_and_is_named() {
    let lab = lab().await;
    let o = admin_options();
    let mut superuser = profile("shard-super", o.get_port(), &lab.shards[0].name);
    superuser.user = o.get_username().to_owned();
    lab.store.save(&superuser).unwrap();
    let mut typed = lab.typed.clone();
    typed.push(TypedPassword::for_profile(
        &superuser,
        "trusted-anyway".to_owned().into(),
    ));
    let passwords = Passwords {
        typed: &typed,
        keyring: None,
    };
    let f = Fleet {
        name: "mixed".into(),
        profiles: vec!["shard-super".into(), "shard-2".into()],
        max_connections: None,
        directory: None,
    };
    let shards = Shards::open(&f, &lab.store, None).unwrap();
    let q = TenantQuery {
        search: None,
        sort: TenantSort::Name,
        limit: 100,
        after: None,
    };
    let page = fleet::search(&shards, passwords, &how(), &q).await;
    assert!(page.items.iter().all(|r| r.shard == "shard-2"));
    assert_eq!(page.items.len(), 3);
    assert_eq!(page.unavailable.len(), 1);
    assert_eq!(page.unavailable[0].shard, "shard-super");
    assert_eq!(page.unavailable[0].kind, "isolation_not_enforced");
    let e = fleet::locate(&shards, passwords, &how(), "shop-1")
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("shard-super (isolation_not_enforced)"),
        "{e}"
    );
}

/// A fleet with a directory (here a table on shard 1 saying where each tenant lives): a lookup is one query
/// and one shard. The down shard is not asked (it is not named as unavailable); a slug the directory places on
/// two shards is refused with both named; a stale entry is said to be stale; a directory that does not answer
/// falls back to asking every shard, and says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_directory_makes_a_lookup_one_query_and_one_shard() {
    let lab = lab().await;
    sqlx::raw_sql(
        "CREATE TABLE tenant_directory (tenant_id text, slug text, shard text); GRANT SELECT ON tenant_directory TO console_reader",
    )
    .execute(&lab.shards[0].admin)
    .await
    .unwrap();
    for (i, db) in lab.shards.iter().enumerate() {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id::text, slug FROM tenants")
            .fetch_all(&db.admin)
            .await
            .unwrap();
        for (id, slug) in rows {
            sqlx::query("INSERT INTO tenant_directory VALUES ($1, $2, $3)")
                .bind(id)
                .bind(slug)
                .bind(format!("shard-{}", i + 1))
                .execute(&lab.shards[0].admin)
                .await
                .unwrap();
        }
    }
    // A stale entry: the directory says shard-6, the tenant is nowhere.
    sqlx::query("INSERT INTO tenant_directory VALUES ('x', 'moved-away', 'shard-6')")
        .execute(&lab.shards[0].admin)
        .await
        .unwrap();
    let mut f = all_shards();
    f.directory = Some(fleet::Directory {
        profile: "shard-1".into(),
        sql: "SELECT tenant_id, slug, shard FROM tenant_directory".into(),
    });
    lab.fleets.save(&f, &lab.store).unwrap();
    let shards = Shards::open(&f, &lab.store, None).unwrap();

    let found = fleet::locate(&shards, lab.passwords(), &how(), "shop-5")
        .await
        .unwrap();
    assert_eq!(found.shard, "shard-5");
    assert!(
        found.unavailable.is_empty(),
        "only the directory and shard 5 were asked"
    );

    let twin = fleet::locate(&shards, lab.passwords(), &how(), "twin")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        twin.contains("shard-2") && twin.contains("shard-4"),
        "{twin}"
    );

    let stale = fleet::locate(&shards, lab.passwords(), &how(), "moved-away")
        .await
        .unwrap_err();
    assert_eq!(stale.kind(), "unknown_tenant");
    assert!(stale.to_string().contains("stale"), "{stale}");
    let none = fleet::locate(&shards, lab.passwords(), &how(), "nowhere")
        .await
        .unwrap_err();
    assert!(none.to_string().contains("names no shard"), "{none}");

    // One statement only; the value is bound, never written into the text.
    let mut bad = f.clone();
    bad.directory = Some(fleet::Directory {
        profile: "shard-1".into(),
        sql: "SELECT 1; DROP TABLE tenants".into(),
    });
    assert!(lab.fleets.save(&bad, &lab.store).is_err());
    let hostile = fleet::locate(&shards, lab.passwords(), &how(), "x' OR '1'='1")
        .await
        .unwrap_err();
    assert!(hostile.to_string().contains("names no shard"), "{hostile}");

    // The directory's table gone: every shard is asked instead, and the directory is named.
    sqlx::query("DROP TABLE tenant_directory")
        .execute(&lab.shards[0].admin)
        .await
        .unwrap();
    let fallback = fleet::locate(&shards, lab.passwords(), &how(), "shop-3")
        .await
        .unwrap();
    assert_eq!(fallback.shard, "shard-3");
    let named: Vec<&str> = fallback
        .unavailable
        .iter()
        .map(|u| u.shard.as_str())
        .collect();
    assert_eq!(named, vec!["shard-1", "shard-down"]);
}

/// A tenant's id is its own: the shard that has it settles the lookup, and the shards whose turn had not come
/// are not asked. A slug is asked of every shard (it may be on two).
#[tokio::test(flavor = "multi_thread")]
async fn a_lookup_by_id_stops_at_the_shard_that_has_it_a_slug_asks_every_shard() {
    let lab = lab().await;
    // One connection at a time: shards take their turns in the fleet's order.
    let sequential = Fleet {
        max_connections: Some(1),
        ..all_shards()
    };
    let first = Shards::open(&sequential, &lab.store, None).unwrap();
    let id: String = sqlx::query_scalar("SELECT id::text FROM tenants WHERE slug = 'shop-2'")
        .fetch_one(&lab.shards[1].admin)
        .await
        .unwrap();
    let found = fleet::locate(&first, lab.passwords(), &how(), &id)
        .await
        .unwrap();
    assert_eq!(found.shard, "shard-2");
    assert_eq!(
        found.not_asked,
        ["shard-3", "shard-down", "shard-4", "shard-5", "shard-6"],
        "the lookup was settled on shard-2: the rest were not asked"
    );
    assert!(found.unavailable.is_empty(), "the down shard was not asked");

    // By slug, every shard is asked (the down one named), though shard-2 answered first.
    let fresh = Shards::open(&sequential, &lab.store, None).unwrap();
    let by_slug = fleet::locate(&fresh, lab.passwords(), &how(), "shop-2")
        .await
        .unwrap();
    assert_eq!(by_slug.shard, "shard-2");
    assert!(by_slug.not_asked.is_empty());
    assert_eq!(by_slug.unavailable.len(), 1);
    assert_eq!(by_slug.unavailable[0].shard, "shard-down");
}

/// An id a search or a lookup saw on a shard is asked of that shard alone next time; when it is no longer
/// there (moved to another shard, same id), every shard is asked and the new shard found.
#[tokio::test(flavor = "multi_thread")]
async fn an_id_seen_on_a_shard_is_asked_there_first_and_a_moved_tenant_is_found_again() {
    let lab = lab().await;
    let shards = Shards::open(&all_shards(), &lab.store, None).unwrap();
    let q = TenantQuery {
        search: Some("shop-6".into()),
        sort: TenantSort::Name,
        limit: 10,
        after: None,
    };
    let page = fleet::search(&shards, lab.passwords(), &how(), &q).await;
    assert_eq!(page.unavailable.len(), 1, "the down shard was asked");
    let row = page.items.iter().find(|r| r.shard == "shard-6").unwrap();
    let id = row.row.tenant.id().to_owned();

    // Learned from the search: only shard-6 is asked (the down shard would be named if every shard were).
    let found = fleet::locate(&shards, lab.passwords(), &how(), &id)
        .await
        .unwrap();
    assert_eq!(found.shard, "shard-6");
    assert!(found.unavailable.is_empty(), "{:?}", found.unavailable);

    // The tenant moves to shard-1 (same id): shard-6 no longer has it, every shard is asked, shard-1 found.
    let admin6 = &lab.shards[5].admin;
    sqlx::query("DELETE FROM audit_logs WHERE tenant_id = $1::uuid")
        .bind(&id)
        .execute(admin6)
        .await
        .unwrap();
    sqlx::query("DELETE FROM tenants WHERE id = $1::uuid")
        .bind(&id)
        .execute(admin6)
        .await
        .unwrap();
    sqlx::query("INSERT INTO tenants (id, slug, name) VALUES ($1::uuid, 'shop-6', 'Shop 6')")
        .bind(&id)
        .execute(&lab.shards[0].admin)
        .await
        .unwrap();
    let moved = fleet::locate(&shards, lab.passwords(), &how(), &id)
        .await
        .unwrap();
    assert_eq!(moved.shard, "shard-1");
    assert_eq!(moved.unavailable.len(), 1, "every shard was asked again");

    // A half-done move: the same id on shard-2 too. A search sees both; the id is then never taken from
    // memory, and a lookup names both shards instead of opening one.
    sqlx::query("INSERT INTO tenants (id, slug, name) VALUES ($1::uuid, 'shop-6-copy', 'Shop 6')")
        .bind(&id)
        .execute(&lab.shards[1].admin)
        .await
        .unwrap();
    let page = fleet::search(&shards, lab.passwords(), &how(), &q).await;
    assert_eq!(page.items.len(), 2, "{:?}", page.items);
    let twice = fleet::locate(&shards, lab.passwords(), &how(), &id)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        twice.contains("shard-1") && twice.contains("shard-2"),
        "{twice}"
    );
    // The shard the user last saw it on settles it (a recent tenant).
    let near = fleet::locate_near(&shards, lab.passwords(), &how(), &id, Some("shard-2"))
        .await
        .unwrap();
    assert_eq!(near.shard, "shard-2");
    assert_eq!(near.tenant.slug(), Some("shop-6-copy"));
}

/// The app's open shard holds its connections within the fleet's budget: searching goes on with what is left,
/// the server never sees more than the budget, and a budget too small to hold a shard and search is refused.
#[tokio::test(flavor = "multi_thread")]
async fn an_open_shard_holds_its_share_of_the_budget_and_searches_use_the_rest() {
    let lab = lab().await;
    let f = Fleet {
        max_connections: Some(6),
        ..all_shards()
    };
    let shards = Shards::open(&f, &lab.store, None).unwrap();
    let databases: Vec<String> = lab.shards.iter().map(|d| d.name.clone()).collect();
    let (stop, most) = watch_backends(databases);
    let held = shards
        .hold(
            &lab.store.get("shard-3").unwrap(),
            &lab.store,
            lab.passwords(),
            &how(),
        )
        .await
        .unwrap();
    // One open shard a fleet: a second is refused at once, not left waiting for the first's share.
    let second = shards
        .hold(
            &lab.store.get("shard-1").unwrap(),
            &lab.store,
            lab.passwords(),
            &how(),
        )
        .await
        .err()
        .expect("a second open shard is refused");
    assert!(second.to_string().contains("open already"), "{second}");
    // The open shard reads (its pool's two connections busy at once).
    let door = &held.connected.door;
    let all = TenantQuery::default();
    let (a, b) = tokio::join!(door.tenants(&all), door.tenants(&all));
    assert!(a.is_ok() && b.is_ok());
    let q = TenantQuery {
        search: Some("shop".into()),
        sort: TenantSort::Name,
        limit: 50,
        after: None,
    };
    for _ in 0..3 {
        let page = fleet::search(&shards, lab.passwords(), &how(), &q).await;
        assert_eq!(page.items.len(), 6);
    }
    // The check of the other shards takes what is left (three a shard), one shard at a time.
    let check = fleet::check(
        &f,
        &shards,
        lab.passwords(),
        &how(),
        &CheckOptions::default(),
    )
    .await;
    assert_eq!(check.shards.len(), 7);
    stop.store(true, Ordering::Relaxed);
    let most = most.await.unwrap();
    assert!(
        most >= 2,
        "the watch saw the open shard's connections ({most})"
    );
    assert!(most <= 6, "at most the budget of 6 backends, saw {most}");
    held.connected.door.db().close().await;
    drop(held.share);

    let small = Fleet {
        max_connections: Some(5),
        ..all_shards()
    };
    let shards = Shards::open(&small, &lab.store, None).unwrap();
    let refused = shards
        .hold(
            &lab.store.get("shard-1").unwrap(),
            &lab.store,
            lab.passwords(),
            &how(),
        )
        .await
        .err()
        .expect("a budget of 5 cannot hold a shard and check another");
    assert!(refused.to_string().contains("at least 6"), "{refused}");
}

/// An integer id is each shard's own (tenant 10 on every shard): a lookup by it is never settled by the first
/// shard that has it nor taken from memory; it asks every shard and names both. The shard the user saw it on
/// (a recent tenant) settles it.
#[tokio::test(flavor = "multi_thread")]
async fn an_integer_id_is_each_shards_own_a_lookup_by_it_asks_every_shard() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("intco.toml");
    std::fs::write(&mapping, include_str!("../fixtures/intco.toml")).unwrap();
    let store = ProfileStore::at(dir.path().join("profiles.toml"));
    let mut dbs = Vec::new();
    for name in ["int-a", "int-b"] {
        let db = TestDb::empty().await;
        sqlx::raw_sql(include_str!("../fixtures/intco.sql"))
            .execute(&db.admin)
            .await
            .unwrap();
        let mut p = profile(name, admin_options().get_port(), &db.name);
        p.mapping_file = Some(mapping.clone());
        p.tenant_setting = "intco.org".into();
        store.save(&p).unwrap();
        dbs.push(db);
    }
    let typed: Vec<TypedPassword> = store
        .list()
        .unwrap()
        .iter()
        .map(|p| TypedPassword::for_profile(p, READER_PASSWORD.to_owned().into()))
        .collect();
    let passwords = Passwords {
        typed: &typed,
        keyring: None,
    };
    // One connection at a time: int-a answers first, and would stop int-b if an integer id settled it.
    let f = Fleet {
        name: "ints".into(),
        profiles: vec!["int-a".into(), "int-b".into()],
        max_connections: Some(1),
        directory: None,
    };
    let shards = Shards::open(&f, &store, None).unwrap();
    let q = TenantQuery {
        search: Some("10".into()),
        sort: TenantSort::Name,
        limit: 10,
        after: None,
    };
    let page = fleet::search(&shards, passwords, &how(), &q).await;
    let seen: Vec<(&str, &str)> = page
        .items
        .iter()
        .map(|r| (r.shard.as_str(), r.row.tenant.id()))
        .collect();
    assert_eq!(seen, [("int-a", "10"), ("int-b", "10")]);
    for _ in 0..2 {
        let err = fleet::locate(&shards, passwords, &how(), "10")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("int-a") && err.contains("int-b"), "{err}");
    }
    let near = fleet::locate_near(&shards, passwords, &how(), "10", Some("int-b"))
        .await
        .unwrap();
    assert_eq!((near.shard.as_str(), near.tenant.id()), ("int-b", "10"));
}

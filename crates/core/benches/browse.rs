//! Browse latency through the core API, on loopback, against the benchmark database (`tenantctl seed --bench`:
//! 10,000 tenants, 10,000,000 audit rows, `big-1`..`big-3` with 1,000,000 each), as `console_reader`.
//!
//! Each measured operation is what the app does for one screen, end to end through the core: open the tenant
//! scope (resolve the tenant, `BEGIN READ ONLY`, set the tenant), run the query, commit. Targets (p95):
//! an audit page of 100 rows at depth 1 and at depth 500,000 under 5 ms; tenant search on 10,000 tenants
//! under 20 ms; switching to a tenant and loading its overview (resolve + scope + stats) under 10 ms.
//!
//! Not criterion: the targets are percentiles, and criterion reports means and medians. This prints
//! p50/p95/p99/max per operation. Run it through `benches/browse.sh` (it checks the database first).
//! Environment: `TC_BENCH_URL` (console_reader on tc_bench), `TC_BENCH_ADMIN_URL` (a superuser on tc_bench,
//! used only to find positions deep in the log), `TC_BENCH_ITERS` (samples per operation, default 1000),
//! `TC_BENCH_POOLED` (set: send statements unnamed, as behind a pooler, even when connected directly).

// The benchmark asks the database as the superuser for its positions and baselines, in SQL of its own: the
// rule that only the core's `sql` module sends statements (clippy.toml) is the product's.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use tenant_console_core::audit::{self, AuditFilter};
use tenant_console_core::tenants::{self, TenantQuery};
use tenant_console_core::{ConnectSpec, Db, DbOptions, Mapping};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Latency samples of one operation.
struct Samples {
    name: String,
    target: Option<Duration>,
    times: Vec<Duration>,
}

impl Samples {
    fn pct(&self, p: f64) -> Duration {
        let mut v = self.times.clone();
        v.sort();
        let i = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
        v[i.min(v.len() - 1)]
    }

    fn row(&self) -> String {
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        let p95 = self.pct(95.0);
        let verdict = match self.target {
            Some(t) if p95 <= t => format!("ok (< {} ms)", t.as_millis()),
            Some(t) => format!("MISSED (target {} ms)", t.as_millis()),
            None => String::new(),
        };
        format!(
            "| {:<52} | {:>5} | {:>7} | {:>7} | {:>7} | {:>7} | {} |",
            self.name,
            self.times.len(),
            ms(self.pct(50.0)),
            ms(p95),
            ms(self.pct(99.0)),
            ms(*self.times.iter().max().unwrap()),
            verdict
        )
    }
}

/// Runs `op(i)` `warmup` times unmeasured, then `iters` times measured.
async fn measure<F, Fut>(
    name: &str,
    target_ms: Option<u64>,
    warmup: usize,
    iters: usize,
    mut op: F,
) -> Samples
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..warmup {
        op(i).await;
    }
    let mut times = Vec::with_capacity(iters);
    for i in 0..iters {
        let start = Instant::now();
        op(i).await;
        times.push(start.elapsed());
    }
    let s = Samples {
        name: name.to_owned(),
        target: target_ms.map(Duration::from_millis),
        times,
    };
    eprintln!("{}", s.row());
    s
}

/// The system load average (Linux), or "?" where there is none to read.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = env_or(
        "TC_BENCH_URL",
        "postgres://console_reader@127.0.0.1:5432/tc_bench",
    );
    let admin_url = env_or(
        "TC_BENCH_ADMIN_URL",
        "postgres://postgres@127.0.0.1:5432/tc_bench",
    );
    let iters: usize = env_or("TC_BENCH_ITERS", "1000")
        .parse()
        .expect("TC_BENCH_ITERS is a number");
    let warmup = (iters / 10).max(20);
    // The machine is shared: say how busy it was, so a figure can be read for what it is.
    let load_before = load_average();

    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect as superuser to the bench database: {e}"));
    let (tenant_count, big_rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM tenants),
                (SELECT count(*) FROM audit_logs WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'big-1'))",
    )
    .fetch_one(&admin)
    .await
    .expect("the bench database has the reference schema");
    assert!(
        tenant_count == 10_000 && big_rows == 1_000_000,
        "tc_bench is not the bench seed ({tenant_count} tenants, {big_rows} rows for big-1): run benches/browse.sh"
    );

    // Positions half a million rows deep in each big tenant's log, read by the superuser with OFFSET once
    // (slow, not measured), turned into the cursor a page would have handed out there.
    let mut deep = Vec::new();
    for slug in ["big-1", "big-2", "big-3"] {
        for k in 0..4i64 {
            let (at, id): (chrono::DateTime<chrono::Utc>, i64) = sqlx::query_as(
                "SELECT created_at, id FROM audit_logs
                  WHERE tenant_id = (SELECT id FROM tenants WHERE slug = $1)
                  ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
            )
            .bind(slug)
            .bind(499_999 + k * 1_000)
            .fetch_one(&admin)
            .await
            .unwrap();
            deep.push((slug, audit::cursor_after(at, &id.to_string())));
        }
    }
    // Tenants to switch between: the three big ones and a spread of ordinary ones.
    let small: Vec<String> = sqlx::query_scalar(
        "SELECT slug FROM tenants WHERE slug NOT LIKE 'big-%' ORDER BY md5(slug) LIMIT 200",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    let some_id: String =
        sqlx::query_scalar("SELECT id::text FROM tenants WHERE slug = 'tenant-04242'")
            .fetch_one(&admin)
            .await
            .unwrap();
    admin.close().await;

    let spec = ConnectSpec::from_url(&url).expect("TC_BENCH_URL is a postgres URL");
    // TC_BENCH_POOLED=1: statements unnamed as behind a pooler, to tell their cost from the pooler's own.
    let options = DbOptions {
        pooled: std::env::var_os("TC_BENCH_POOLED").is_some(),
        ..DbOptions::default()
    };
    let db = Db::connect(&spec, Mapping::reference(), options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect as console_reader: {e}"));
    assert!(
        db.login().bypass_reasons().is_empty(),
        "measure as a login under RLS (console_reader), not {}",
        db.login().user
    );
    let bigs = ["big-1", "big-2", "big-3"];
    let filter = &AuditFilter::default();

    eprintln!(
        "| {:<52} | {:>5} | {:>7} | {:>7} | {:>7} | {:>7} | p95 verdict |",
        "operation (ms)", "n", "p50", "p95", "p99", "max"
    );
    eprintln!("|{}|", "-".repeat(120));
    let mut all = Vec::new();

    all.push(
        measure(
            "audit page of 100, depth 1 (big tenants)",
            Some(5),
            warmup,
            iters,
            |i| {
                let db = db.clone();
                async move {
                    let mut scope = tenant_console_dev::testing::door(&db)
                        .scope(bigs[i % 3])
                        .await
                        .unwrap();
                    let page = audit::page(&mut scope, filter, 100, None).await.unwrap();
                    assert_eq!(page.items.len(), 100);
                    scope.finish().await.unwrap();
                }
            },
        )
        .await,
    );
    all.push(
        measure(
            "audit page of 100, depth 500,000 (big tenants)",
            Some(5),
            warmup,
            iters,
            |i| {
                let db = db.clone();
                let (slug, cursor) = deep[i % deep.len()].clone();
                async move {
                    let mut scope = tenant_console_dev::testing::door(&db)
                        .scope(slug)
                        .await
                        .unwrap();
                    let page = audit::page(&mut scope, filter, 100, Some(&cursor))
                        .await
                        .unwrap();
                    assert_eq!(page.items.len(), 100);
                    scope.finish().await.unwrap();
                }
            },
        )
        .await,
    );

    let terms: Vec<String> = [
        "acme",
        "Labs",
        "bank 42",
        "big",
        "tenant-0424",
        "hooli media",
        "Umbrella Energy 9",
        "no such tenant",
        &some_id[..8],
        "cyberdyne retail 71",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.push(
        measure(
            "tenant search, 50 rows by name (10 terms of 4+ chars)",
            Some(20),
            warmup,
            iters,
            |i| {
                let db = db.clone();
                let q = TenantQuery {
                    search: Some(terms[i % terms.len()].clone()),
                    limit: 50,
                    ..Default::default()
                };
                async move {
                    tenants::list(&db, &q).await.unwrap();
                }
            },
        )
        .await,
    );
    let short = ["e", "ac", "7", "zq"];
    all.push(
        measure(
            "tenant search, 1-2 characters (no trigram to use)",
            Some(3),
            warmup.min(40),
            iters / 4,
            |i| {
                let db = db.clone();
                let q = TenantQuery {
                    search: Some(short[i % short.len()].to_owned()),
                    limit: 50,
                    ..Default::default()
                };
                async move {
                    tenants::list(&db, &q).await.unwrap();
                }
            },
        )
        .await,
    );
    all.push(
        measure(
            "tenant list, first page by name, no search",
            None,
            warmup,
            iters / 4,
            |_| {
                let db = db.clone();
                async move {
                    let q = TenantQuery {
                        limit: 50,
                        ..Default::default()
                    };
                    tenants::list(&db, &q).await.unwrap();
                }
            },
        )
        .await,
    );

    let overview = |key: String| {
        let db = db.clone();
        async move {
            let tenant = tenants::resolve(&db, &key).await.unwrap();
            let mut scope = tenant_console_dev::testing::scope(&db, &tenant).await;
            tenants::stats(&mut scope).await.unwrap();
            scope.finish().await.unwrap();
        }
    };
    all.push(
        measure(
            "switch tenant + overview, mixed (1 in 4 big)",
            Some(10),
            warmup,
            iters,
            |i| {
                let key = if i % 4 == 0 {
                    bigs[(i / 4) % 3].to_owned()
                } else {
                    small[i % small.len()].clone()
                };
                overview(key)
            },
        )
        .await,
    );
    all.push(
        measure(
            "switch tenant + overview, big tenants only",
            Some(10),
            warmup,
            iters / 2,
            |i| overview(bigs[i % 3].to_owned()),
        )
        .await,
    );
    // The tenant at a glance (the overview's second read): newest 20 events, most active actors over the
    // newest 10,000 events of 30 days, failed sign-ins, recent support accesses, in one scope. Target p95
    // 15 ms on the 1M-event tenants (the support person's first screen).
    let glance = |key: String| {
        let db = db.clone();
        async move {
            let tenant = tenants::resolve(&db, &key).await.unwrap();
            let mut scope = tenant_console_dev::testing::scope(&db, &tenant).await;
            tenant_console_core::glance::glance(&mut scope, chrono::Utc::now())
                .await
                .unwrap();
            scope.finish().await.unwrap();
        }
    };
    all.push(
        measure(
            "tenant at a glance, big tenants (1M events)",
            Some(15),
            warmup.min(20),
            (iters / 3).max(20),
            |i| glance(bigs[i % 3].to_owned()),
        )
        .await,
    );
    all.push(
        measure(
            "tenant at a glance, small tenants",
            Some(15),
            warmup.min(20),
            (iters / 3).max(20),
            |i| glance(small[i % small.len()].clone()),
        )
        .await,
    );

    println!();
    println!(
        "load average (1/5/15 min) before: {load_before}, after: {}",
        load_average()
    );
    println!(
        "| {:<52} | {:>5} | {:>7} | {:>7} | {:>7} | {:>7} | p95 verdict |",
        "operation (ms)", "n", "p50", "p95", "p99", "max"
    );
    println!(
        "|{:-<54}|{:->7}|{:->9}|{:->9}|{:->9}|{:->9}|{:-<13}|",
        "", "", "", "", "", "", ""
    );
    for s in &all {
        println!("{}", s.row());
    }
}

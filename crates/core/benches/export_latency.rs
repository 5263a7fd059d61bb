//! Export responsiveness on the bench database (tenant big-1, 1,000,000 events), release build: how often
//! progress arrives while a 1M-row export runs, and how long a cancel takes to be answered (the export
//! returns `Cancelled`, its partial file gone), with a healthy disk and with a writer that stalls on every
//! write (a full pipe, a hung network disk). A benchmark, not a test: it prints figures.
//!
//!   cargo bench -p tenant-console-core --bench export_latency
//!   TC_BENCH_URL=postgres://console_reader@HOST/tc_bench  (default: the local bench database)

// The benchmark asks the database as the superuser for its positions and baselines, in SQL of its own: the
// rule that only the core's `sql` module sends statements (clippy.toml) is the product's.
#![allow(clippy::disallowed_methods)]

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tenant_console_core::export::{export_to_path, export_to_writer, ExportOptions};
use tenant_console_core::{ConnectSpec, Db, DbOptions, Error, Mapping};

/// A writer that sleeps on every write: the export's writer thread is stuck most of the time.
struct Stalling(Duration);

impl Write for Stalling {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::thread::sleep(self.0);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn gaps(stamps: &[Instant], start: Instant) -> (Duration, Duration) {
    let mut prev = start;
    let mut max = Duration::ZERO;
    let mut first = None;
    for t in stamps {
        let g = t.duration_since(prev);
        if first.is_none() {
            first = Some(g);
        }
        max = max.max(g);
        prev = *t;
    }
    (first.unwrap_or_default(), max)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::var("TC_BENCH_URL")
        .unwrap_or_else(|_| "postgres://console_reader@127.0.0.1:5432/tc_bench".into());
    let spec = ConnectSpec::from_url(&url).expect("TC_BENCH_URL is a postgres URL");
    let db = Db::connect(&spec, Mapping::reference(), DbOptions::default())
        .await
        .unwrap_or_else(|e| panic!("cannot connect: {e}"));
    let door = tenant_console_dev::testing::door(&db);
    let dir = tempfile::tempdir().unwrap();
    let opts = ExportOptions {
        jobs: 1,
        ..Default::default()
    };

    // 1. A whole export to a file: the gaps between progress reports.
    for run in 1..=3 {
        let stamps = Arc::new(Mutex::new(Vec::new()));
        let s = stamps.clone();
        let start = Instant::now();
        let path = dir.path().join(format!("full-{run}.csv"));
        let summary = export_to_path(
            &door,
            "big-1",
            &opts,
            None,
            &path,
            &Arc::new(AtomicBool::new(false)),
            move |_| s.lock().unwrap().push(Instant::now()),
        )
        .await
        .unwrap();
        let stamps = stamps.lock().unwrap();
        let (first, max) = gaps(&stamps, start);
        println!(
            "full export run {run}: {} rows in {:.2} s, {} progress reports, first after {} ms, largest gap {} ms",
            summary.rows,
            start.elapsed().as_secs_f64(),
            stamps.len(),
            first.as_millis(),
            max.as_millis()
        );
    }

    // 2. Cancel after 1 s: to a file, and to a writer that stalls 200 ms on every write.
    for (name, stall) in [
        ("file", None),
        ("stalling writer (200 ms a write)", Some(200)),
    ] {
        for run in 1..=3 {
            let cancel = Arc::new(AtomicBool::new(false));
            let stamps = Arc::new(Mutex::new(Vec::new()));
            let s = stamps.clone();
            let start = Instant::now();
            let c = cancel.clone();
            let canceller = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                c.store(true, Ordering::Relaxed);
                Instant::now()
            });
            let path = dir.path().join(format!("cancel-{run}.csv"));
            let result = match stall {
                None => {
                    export_to_path(&door, "big-1", &opts, None, &path, &cancel, move |_| {
                        s.lock().unwrap().push(Instant::now())
                    })
                    .await
                }
                Some(ms) => {
                    export_to_writer(
                        &door,
                        "big-1",
                        &opts,
                        None,
                        Box::new(Stalling(Duration::from_millis(ms))),
                        &cancel,
                        move |_| s.lock().unwrap().push(Instant::now()),
                    )
                    .await
                }
            };
            let returned = Instant::now();
            let asked = canceller.await.unwrap();
            assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
            assert!(!path.exists(), "the partial file was left");
            let stamps = stamps.lock().unwrap();
            let before: Vec<Instant> = stamps.iter().copied().filter(|t| *t <= asked).collect();
            let (_, max) = gaps(&before, start);
            println!(
                "cancel after 1 s, {name}, run {run}: answered in {} ms; {} progress reports before it, largest gap {} ms",
                returned.duration_since(asked).as_millis(),
                before.len(),
                max.as_millis()
            );
        }
    }
}

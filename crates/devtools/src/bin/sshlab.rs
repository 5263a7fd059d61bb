//! Starts an SSH lab (see `tenant_console_dev::sshlab`) for benchmarks and manual tries: a bastion and an inner
//! host in network namespaces, the demo database on the inner host's loopback only, and, with `--events N`,
//! N extra audit events for tenant acme. Prints what a script needs as KEY=value lines, then keeps the lab
//! until standard input closes (the lab is removed then, or when the process is killed).
//!
//!   sshlab [--events N]

// A development tool: its set-up statements are outside the product's rule (clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::io::Read;

use tenant_console_dev::sshlab::{Identity, Known, Lab, DB, READER_PASSWORD};

#[tokio::main]
async fn main() {
    let mut events: u64 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--events" => {
                events = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--events N")
            }
            other => {
                eprintln!("sshlab: unknown argument {other:?} (usage: sshlab [--events N])");
                std::process::exit(2);
            }
        }
    }
    let lab = match Lab::start().await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sshlab: {e}");
            std::process::exit(1);
        }
    };
    lab.seed_demo().await;
    if events > 0 {
        sqlx::query(
            "INSERT INTO audit_logs (tenant_id, actor_id, action, resource_type, resource_id, ip, user_agent, metadata, created_at)
             SELECT t.id, NULL, 'bench.event', 'doc', 'doc-' || g, '10.1.2.3', 'bench/1.0',
                    jsonb_build_object('n', g, 'note', 'an event, with a comma'), now() - g * interval '1 second'
               FROM tenants t, generate_series(1, $1) g WHERE t.slug = 'acme'",
        )
        .bind(events as i64)
        .execute(&lab.admin().await)
        .await
        .expect("bench events");
        sqlx::query("ANALYZE audit_logs")
            .execute(&lab.admin().await)
            .await
            .unwrap();
    }
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::Both));
    println!("BASTION_NS={}", lab.bastion_ns);
    println!("INNER_NS={}", lab.inner_ns);
    println!("BASTION_IP={}", lab.bastion_ip);
    println!("SSH_CONFIG={}", cfg.display());
    println!("DB={DB}");
    println!("READER_PASSWORD={READER_PASSWORD}");
    println!("READY=1");
    // Keep the lab until the caller closes our standard input.
    let mut sink = Vec::new();
    let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_to_end(&mut sink)).await;
    drop(lab);
}

//! `planwright-load`: a small closed-loop HTTP load generator for the benchmarks in `bench/`.
//!
//! `C` workers each send requests back to back until `N` have been sent in all, then it prints
//! throughput and latency percentiles. Only for servers on this machine.
//!
//! ```text
//! planwright-load --url http://127.0.0.1:18191/api/v1/plans --token $TOKEN \
//!     --body '{"goal":"Learn Rust","duration_days":3}' --concurrency 200 --requests 4000
//! ```

#![allow(clippy::print_stdout)]

use std::{
    collections::BTreeMap,
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "planwright-load", about = "Closed-loop HTTP load against a local Planwright server.")]
struct Args {
    /// The URL to POST to (loopback only).
    #[arg(long)]
    url: String,
    /// Bearer token to send.
    #[arg(long)]
    token: Option<String>,
    /// JSON body of every request.
    #[arg(long, default_value = "{}")]
    body: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// Requests in all.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Extra header, `NAME: VALUE` (repeatable).
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let host =
        args.url.split("://").nth(1).and_then(|rest| rest.split(['/', ':']).next()).unwrap_or_default();
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        eprintln!("planwright-load: only loopback targets are allowed, not {host:?}");
        return ExitCode::FAILURE;
    }
    let client = match reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(args.timeout_secs))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("planwright-load: {error}");
            return ExitCode::FAILURE;
        }
    };
    let headers: Vec<(String, String)> = args
        .headers
        .iter()
        .filter_map(|h| h.split_once(':').map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())))
        .collect();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        let headers = headers.clone();
        let (client, next, url, token, body, total) = (
            client.clone(),
            next.clone(),
            args.url.clone(),
            args.token.clone(),
            args.body.clone(),
            args.requests,
        );
        workers.push(tokio::spawn(async move {
            let mut results = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let mut request =
                    client.post(&url).header("content-type", "application/json").body(body.clone());
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                for (name, value) in &headers {
                    request = request.header(name.as_str(), value.as_str());
                }
                let sent = Instant::now();
                let status = match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                results.push((status, sent.elapsed()));
            }
            results
        }));
    }
    let mut latencies = Vec::with_capacity(args.requests);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for worker in workers {
        for (status, latency) in worker.await.unwrap_or_default() {
            *statuses.entry(status).or_default() += 1;
            latencies.push(latency);
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let ok = statuses.iter().filter(|(s, _)| (200..300).contains(*s)).map(|(_, n)| n).sum::<usize>();
    println!(
        "requests:    {} in {:.2} s ({} concurrent)",
        latencies.len(),
        elapsed.as_secs_f64(),
        args.concurrency
    );
    println!("statuses:    {statuses:?} (0 = transport error)");
    println!(
        "throughput:  {:.1} requests/s ({:.1} successful/s)",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ok as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency ms:  p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        percentile(0.50),
        percentile(0.90),
        percentile(0.99),
        percentile(1.0)
    );
    if ok == latencies.len() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

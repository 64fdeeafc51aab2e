//! Prometheus metrics: requests by route template, method and status, their latency, and calls
//! to upstream services. Recorded by `middleware::metrics`, the AI services and (through their
//! observer hook) the Google clients.

use std::sync::Arc;

use planwright_calendar::{Api, CallObserver, CallReport};
use planwright_store::PoolStats;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The registry and the instruments the server records into.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    upstream: IntCounterVec,
    upstream_latency: HistogramVec,
    pool_connections: IntGaugeVec,
    pool_max: IntGaugeVec,
    /// Unix seconds at which this process's metrics began (the application's start).
    started_at: f64,
}

impl Metrics {
    /// A fresh registry (one per application, so tests do not share counts).
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("planwright".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by route template, method and status."),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer an HTTP request, by route template and method.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["route", "method"],
        )?;
        let upstream = IntCounterVec::new(
            Opts::new(
                "upstream_calls_total",
                "Calls to upstream services (the AI, Google Calendar and Google OAuth), by service and outcome.",
            ),
            &["service", "outcome"],
        )?;
        let upstream_latency = HistogramVec::new(
            HistogramOpts::new(
                "upstream_call_duration_seconds",
                "Time an upstream call took, retries included.",
            )
            .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0]),
            &["service"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(upstream.clone()))?;
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections by pool (`main`; on SQLite `read` and `write`) and state (`idle`, `in_use`), at scrape time.",
            ),
            &["pool", "state"],
        )?;
        let pool_max = IntGaugeVec::new(
            Opts::new("db_pool_max_connections", "The most connections each database pool may open."),
            &["pool"],
        )?;
        registry.register(Box::new(upstream_latency.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        Ok(Self {
            registry,
            requests,
            latency,
            upstream,
            upstream_latency,
            pool_connections,
            pool_max,
            started_at,
        })
    }

    /// Records one upstream call and how it ended (`ok`, `declined`, `unavailable`, ...).
    pub fn observe_upstream(&self, service: &str, outcome: &str, seconds: f64) {
        self.upstream.with_label_values(&[service, outcome]).inc();
        self.upstream_latency.with_label_values(&[service]).observe(seconds);
    }

    /// An observer for the Google clients: each finished call is counted as an upstream call of
    /// service `google_calendar` or `google_oauth`, with outcome `ok` or the kind of failure
    /// (`rate_limited`, `timeout`, `unauthorized`, `invalid_grant`, ...).
    pub fn google_observer(&self) -> Arc<dyn CallObserver> {
        Arc::new(GoogleCalls(self.clone()))
    }

    /// Records one answered request (`status`: its three digits).
    pub fn observe(&self, route: &str, method: &str, status: &str, seconds: f64) {
        self.requests.with_label_values(&[route, method, status]).inc();
        self.latency.with_label_values(&[route, method]).observe(seconds);
    }

    /// Everything, in the Prometheus text exposition format: the recorded instruments, the
    /// database pools as `pools` says they are now, and the process's own standard metrics
    /// (`process_*`, read from `/proc/self` on Linux).
    pub fn render(&self, pools: &[PoolStats]) -> anyhow::Result<String> {
        for stats in pools {
            let in_use = stats.size.saturating_sub(stats.idle);
            self.pool_connections.with_label_values(&[stats.pool, "idle"]).set(i64::from(stats.idle));
            self.pool_connections.with_label_values(&[stats.pool, "in_use"]).set(i64::from(in_use));
            self.pool_max.with_label_values(&[stats.pool]).set(i64::from(stats.max));
        }
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        let mut text = String::from_utf8(buffer)?;
        process::render(&mut text, self.started_at);
        Ok(text)
    }
}

/// The process metrics every Prometheus client exports, under their standard names, read at
/// scrape time from `/proc` (a value that cannot be read is left out: on other systems only the
/// start time, that of the application, is given).
mod process {
    use std::fmt::Write;

    /// Clock ticks per second of `/proc/self/stat`'s CPU times: `USER_HZ`, 100 on every Linux
    /// architecture (it is part of the kernel's user-space ABI).
    const TICKS_PER_SECOND: f64 = 100.0;

    fn sample(text: &mut String, name: &str, kind: &str, help: &str, value: f64) {
        let _ = write!(text, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
    }

    pub(super) fn render(text: &mut String, started_at: f64) {
        let mut start_time = started_at.floor();
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // Fields after the command (which may hold spaces) start at state, field 3.
            let fields: Vec<&str> =
                stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
            let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
            if let (Some(user), Some(system)) = (field(14), field(15)) {
                let help = "Total user and system CPU time spent in seconds.";
                sample(
                    text,
                    "process_cpu_seconds_total",
                    "counter",
                    help,
                    (user + system) / TICKS_PER_SECOND,
                );
            }
            // Field 22 is the start in ticks after boot; `btime` in /proc/stat is the boot.
            let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|stat| {
                stat.lines()
                    .find_map(|line| line.strip_prefix("btime "))
                    .and_then(|v| v.trim().parse::<f64>().ok())
            });
            if let (Some(boot), Some(ticks)) = (boot, field(22)) {
                start_time = boot + (ticks / TICKS_PER_SECOND).floor();
            }
            if let Some(bytes) = field(23) {
                sample(text, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", bytes);
            }
        }
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            let rss_kib = status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
            if let Some(kib) = rss_kib {
                let help = "Resident memory size in bytes.";
                sample(text, "process_resident_memory_bytes", "gauge", help, kib * 1024.0);
            }
        }
        if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
            // The directory handle reading it is one of the entries; it is not the process's.
            let open = entries.count().saturating_sub(1);
            sample(text, "process_open_fds", "gauge", "Number of open file descriptors.", open as f64);
        }
        if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
            let max = limits
                .lines()
                .find_map(|line| line.strip_prefix("Max open files"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|soft| soft.parse::<f64>().ok());
            if let Some(max) = max {
                sample(text, "process_max_fds", "gauge", "Maximum number of open file descriptors.", max);
            }
        }
        let help = "Start time of the process since unix epoch in seconds.";
        sample(text, "process_start_time_seconds", "gauge", help, start_time);
    }
}

/// Counts the Google clients' calls into [`Metrics`].
#[derive(Debug)]
struct GoogleCalls(Metrics);

impl CallObserver for GoogleCalls {
    fn call_finished(&self, report: &CallReport<'_>) {
        let service = match report.api {
            Api::OAuth => "google_oauth",
            _ => "google_calendar",
        };
        let outcome = report.error.map_or("ok", planwright_calendar::Error::kind);
        self.0.observe_upstream(service, outcome, report.elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_counts_by_label() {
        let metrics = Metrics::new().expect("metrics");
        metrics.observe("/api/v1/me", "GET", "200", 0.003);
        metrics.observe("/api/v1/me", "GET", "200", 0.004);
        let text = metrics.render(&[]).expect("render");
        assert!(
            text.contains(
                r#"planwright_http_requests_total{method="GET",route="/api/v1/me",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains("planwright_http_request_duration_seconds_bucket"), "{text}");
    }
}

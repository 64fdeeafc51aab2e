//! Prometheus metrics: requests by route template, method and status, their latency, and calls
//! to upstream services. Recorded by `middleware::metrics` and the AI services.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

/// The registry and the instruments the server records into.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    upstream: IntCounterVec,
    upstream_latency: HistogramVec,
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
            Opts::new("upstream_calls_total", "Calls to upstream services (the AI), by service and outcome."),
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
        registry.register(Box::new(upstream_latency.clone()))?;
        Ok(Self { registry, requests, latency, upstream, upstream_latency })
    }

    /// Records one upstream call and how it ended (`ok`, `declined`, `unavailable`, ...).
    pub fn observe_upstream(&self, service: &str, outcome: &str, seconds: f64) {
        self.upstream.with_label_values(&[service, outcome]).inc();
        self.upstream_latency.with_label_values(&[service]).observe(seconds);
    }

    /// Records one answered request.
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.latency.with_label_values(&[route, method]).observe(seconds);
    }

    /// Everything, in the Prometheus text exposition format.
    pub fn render(&self) -> anyhow::Result<String> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_counts_by_label() {
        let metrics = Metrics::new().expect("metrics");
        metrics.observe("/api/v1/me", "GET", 200, 0.003);
        metrics.observe("/api/v1/me", "GET", 200, 0.004);
        let text = metrics.render().expect("render");
        assert!(
            text.contains(
                r#"planwright_http_requests_total{method="GET",route="/api/v1/me",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains("planwright_http_request_duration_seconds_bucket"), "{text}");
    }
}

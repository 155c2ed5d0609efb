//! The Prometheus metrics of one server, served at `GET /metrics` (off unless `metrics_token` is set).
//!
//! Conventions:
//! - One registry per [`Metrics`], kept in `AppState`, never a process-wide recorder: two servers in
//!   one process (the tests, a second instance) keep their own counts.
//! - Requests are labelled with the route pattern that matched (`/api/v1/households/{id}`), never
//!   with the path, so no id or name reaches the metrics and the number of series stays bounded.
//!   What no route matched is `unmatched`; files of the web app are `static`; an unusual method is
//!   `other`.
//! - What the database pool, the admission gate and the webhook outbox hold is read when scraped,
//!   not kept up to date by the code that changes it.

use std::time::Duration;

use actix_web::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::db::{ConnectionUse, GateUse};
use crate::sync::{PushRecord, PushResult, PushStatus, RecordKind};

/// The media type of the answer: Prometheus' text exposition format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every metric's name starts with this and an underscore.
const PREFIX: &str = "tungnha";

/// Upper bounds of the latency buckets, in seconds (the last bucket, `+Inf`, is implicit).
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    kind: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The counters and histograms the server keeps while it runs.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    records: Family<RecordLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route pattern and status",
            requests.clone(),
        );
        let durations = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response head, by method and route pattern",
            durations.clone(),
        );
        let records = Family::<RecordLabels, Counter>::default();
        registry.register(
            "sync_records",
            "Records pushed (by phones, or entered on the web through the same path) and what \
             became of them once committed, by kind and status (applied, duplicate, conflict, \
             rejected)",
            records.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            records,
        }
    }

    /// Counts one answered request; `route` is the matched pattern (`HttpRequest::match_pattern`).
    pub fn observe_request(
        &self,
        method: &Method,
        route: Option<String>,
        status: u16,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        let route = route_label(route);
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Counts the results of a committed push; `records` are the records sent, in the same order.
    pub fn count_records(&self, records: &[PushRecord], results: &[PushResult]) {
        for (record, result) in records.iter().zip(results) {
            self.records
                .get_or_create(&RecordLabels {
                    kind: record.kind().map_or("unknown", RecordKind::as_str),
                    status: status_label(result.status),
                })
                .inc();
        }
    }

    /// The exposition: what was counted, then the pools, the gate and the webhook outbox as they
    /// are now. `backlog` is `(pending, dead)`; `None` (it could not be counted) leaves its series out.
    pub fn render(
        &self,
        gate: GateUse,
        connections: &[ConnectionUse],
        backlog: Option<(i64, i64)>,
    ) -> Result<String, std::fmt::Error> {
        let mut now = Registry::with_prefix(PREFIX);
        let open = Family::<ConnectionLabels, Gauge>::default();
        let max = Family::<PoolLabels, Gauge>::default();
        for c in connections {
            let in_use = c.open.saturating_sub(c.idle);
            for (state, n) in [("in_use", in_use), ("idle", c.idle)] {
                open.get_or_create(&ConnectionLabels {
                    pool: c.pool,
                    state,
                })
                .set(i64::from(n));
            }
            max.get_or_create(&PoolLabels { pool: c.pool })
                .set(i64::from(c.max));
        }
        now.register(
            "db_connections",
            "Open database connections by pool (main; writer: SQLite's push connection) and state",
            open,
        );
        now.register(
            "db_connections_max",
            "Most connections each pool opens",
            max,
        );
        let gauge = |n: usize| {
            let g = Gauge::<i64>::default();
            g.set(i64::try_from(n).unwrap_or(i64::MAX));
            g
        };
        now.register(
            "db_gate_capacity",
            "Database calls the admission gate lets run (or wait for a connection) at once",
            gauge(gate.capacity),
        );
        now.register(
            "db_gate_in_flight",
            "Database calls holding the admission gate now",
            gauge(gate.in_flight),
        );
        now.register(
            "db_gate_waiting",
            "Database calls waiting in front of the admission gate now",
            gauge(gate.waiting),
        );
        let refused = Family::<ReasonLabels, Counter>::default();
        for (reason, n) in [
            ("queue_full", gate.refused_queue_full),
            ("timeout", gate.refused_timeout),
        ] {
            refused.get_or_create(&ReasonLabels { reason }).inc_by(n);
        }
        now.register(
            "db_gate_refused",
            "Database calls answered 503 by the admission gate since start: queue_full \
             (server_busy) or timeout (server_slow)",
            refused,
        );
        if let Some((pending, dead)) = backlog {
            let deliveries = Family::<StatusLabels, Gauge>::default();
            for (status, n) in [("pending", pending), ("dead", dead)] {
                deliveries.get_or_create(&StatusLabels { status }).set(n);
            }
            now.register(
                "webhook_deliveries",
                "Webhook deliveries waiting to be sent (pending) or given up (dead)",
                deliveries,
            );
        }
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        prometheus_client::encoding::prometheus_text::encode(&mut out, &now)?;
        Ok(out)
    }
}

/// The methods the API answers, by name; anything else is one label, so a client inventing
/// methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

fn route_label(pattern: Option<String>) -> String {
    match pattern {
        None => "unmatched".to_owned(),
        // The web app's files are served under the root prefix, whose pattern is empty.
        Some(p) if p.is_empty() => "static".to_owned(),
        Some(p) => p,
    }
}

fn status_label(status: PushStatus) -> &'static str {
    match status {
        PushStatus::Applied => "applied",
        PushStatus::Duplicate => "duplicate",
        PushStatus::Conflict => "conflict",
        PushStatus::Rejected => "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> GateUse {
        GateUse {
            capacity: 8,
            in_flight: 3,
            waiting: 1,
            refused_queue_full: 2,
            refused_timeout: 0,
        }
    }

    #[test]
    fn requests_are_labelled_by_pattern_and_unusual_methods_are_pooled() {
        let m = Metrics::new();
        let pattern = Some("/api/v1/households/{id}".to_owned());
        m.observe_request(&Method::GET, pattern.clone(), 200, Duration::from_millis(3));
        m.observe_request(&Method::GET, pattern, 200, Duration::from_millis(30));
        let odd = Method::from_bytes(b"BREW").expect("a method token");
        m.observe_request(&odd, None, 404, Duration::from_millis(1));
        let text = m.render(gate(), &[], None).expect("encodes");
        assert!(
            text.contains(
                "tungnha_http_requests_total{method=\"GET\",route=\"/api/v1/households/{id}\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("tungnha_http_requests_total{method=\"other\",route=\"unmatched\",status=\"404\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tungnha_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/households/{id}\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tungnha_db_gate_refused_total{reason=\"queue_full\"} 2"),
            "{text}"
        );
        assert!(!text.contains("webhook_deliveries"), "{text}");
    }
}

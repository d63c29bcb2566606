//! Prometheus `/metrics` on its own listener (`metricsListen`): request latency by route (each
//! server function is a route, `/api/<name>`), server-function errors by kind, and the
//! fleet's counters and gauges (`fleet::metrics`), read from the monitors' snapshots when
//! scraped.

use std::sync::Arc;
use std::time::Instant;

use app::state::ConsoleState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    /// The matched route (`/clusters`, `/api/login`); `other` for static files and unknown
    /// paths, so that no request can mint new series.
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    function: String,
    /// `signed-out` (401), `forbidden` (403), `not-found` (404), `conflict` (409),
    /// `refused` (422), `rate-limited` (429), `client-error` (other 4xx), `server-error` (5xx).
    kind: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 5 ms to ~20 s: a page render is milliseconds, a call through a slow host seconds.
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

/// Everything `/metrics` shows.
pub struct Metrics {
    registry: Registry,
    latency: LatencyFamily,
    errors: Family<ErrorLabels, Counter>,
    fleet: fleet::metrics::FleetGauges,
    sync: fleet::sync::gauges::SyncGauges,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::default();
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "tandem_http_request_duration_seconds",
            "Time to answer a request, by route (a server function is /api/<name>) and method",
            latency.clone(),
        );
        registry.register(
            "tandem_server_function_errors",
            "Server-function calls answered with an error, by function and kind",
            errors.clone(),
        );
        let fleet = fleet::metrics::FleetGauges::default();
        fleet.register(&mut registry);
        let sync = fleet::sync::gauges::SyncGauges::default();
        sync.register(&mut registry);
        Arc::new(Self {
            registry,
            latency,
            errors,
            fleet,
            sync,
        })
    }

    /// The text a scrape gets, with the gauges read from `state` now.
    pub fn render(&self, state: &ConsoleState, leading: bool) -> Result<String, std::fmt::Error> {
        let role = fleet::metrics::ReplicaRole {
            leading,
            watching_federation: state.federation.watching(),
        };
        self.fleet
            .observe(&state.hosts.snapshot(), &state.federation.rows(), role);
        if let Some(sync) = &state.sync {
            self.sync.observe(&sync.record());
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

fn error_kind(status: StatusCode) -> Option<&'static str> {
    Some(match status.as_u16() {
        401 => "signed-out",
        403 => "forbidden",
        404 => "not-found",
        409 => "conflict",
        422 => "refused",
        429 => "rate-limited",
        400..=499 => "client-error",
        500..=599 => "server-error",
        _ => return None,
    })
}

/// Times every routed request; counts server-function errors.
pub async fn measure(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    // A fixed set: any token is a valid HTTP method, and each would be a new series.
    let method = match request.method().as_str() {
        m @ ("GET" | "POST" | "HEAD" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "other",
    }
    .to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    if route.starts_with("/api/")
        && let Some(kind) = error_kind(response.status())
    {
        metrics
            .errors
            .get_or_create(&ErrorLabels {
                function: route.trim_start_matches("/api/").to_string(),
                kind,
            })
            .inc();
    }
    metrics
        .latency
        .get_or_create(&RouteLabels { route, method })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The `/metrics` listener's router.
pub fn router(
    metrics: Arc<Metrics>,
    state: ConsoleState,
    leadership: fleet::replicas::Leadership,
) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (metrics, state, leadership) = (metrics.clone(), state.clone(), leadership.clone());
            async move {
                match metrics.render(&state, leadership.is_leader()) {
                    Ok(text) => (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        text,
                    )
                        .into_response(),
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
        }),
    )
}

//! `/metrics` in Prometheus text format, and the middleware that counts and times requests.
//!
//! The `metrics` facade has one global recorder per process. It is installed here, once, on first
//! use (tests build many routers in one process). Other crates record their own series (sessions,
//! frames) with the `metrics` macros and they appear on the same page.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use utoipa::OpenApi;

use crate::AppState;

/// Requests served, by method, route template and status.
pub const HTTP_REQUESTS_TOTAL: &str = "atrium_http_requests_total";
/// Request latency in seconds, by method, route template and status.
pub const HTTP_REQUEST_DURATION: &str = "atrium_http_request_duration_seconds";

/// Latency histogram buckets, in seconds (1 ms to 10 s).
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus recorder, installed on first call. If another recorder was
/// installed first, a detached one is returned (its page stays empty) and a warning is logged.
pub fn prometheus_handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        handle
    })
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(render))
}

#[derive(OpenApi)]
#[openapi(paths(render))]
pub struct MetricsApi;

/// Prometheus metrics (text exposition format).
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", content_type = "text/plain", body = String))
)]
pub async fn render() -> Response {
    let handle = prometheus_handle();
    handle.run_upkeep();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}

/// Counts and times every request. Routes are labelled by their template (`/api/v1/channels/{id}`)
/// so ids do not explode the number of series; unmatched paths share one label.
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, &labels).record(start.elapsed().as_secs_f64());
    response
}

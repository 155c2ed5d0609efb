use tracing_subscriber::EnvFilter;

/// How log lines are written (setting `log_format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event, the request's span fields in front.
    #[default]
    Text,
    /// One JSON object per line, with the request's span (method, route, client, `request_id`)
    /// under `span`, for log collectors.
    Json,
}

impl LogFormat {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("`{other}` is neither text nor json")),
        }
    }
}

/// Logs to stderr; `RUST_LOG` overrides the default level (`info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // The request's root span is the only span the server opens, so the current span carries
        // everything; a list of every enclosing span would repeat it on each line.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Times every request, writes its access line (target `tungnha::access`, inside the request's
/// span, so it carries the request id), and counts it for `/metrics` when metrics are on.
pub async fn observe(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    // Taken before the call: an `Err` outcome no longer holds the request.
    let state = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .filter(|s| s.settings.metrics_token.is_some())
        .cloned();
    let method = req.method().clone();
    let outcome = next.call(req).await;
    let elapsed = started.elapsed();
    let (status, route) = match &outcome {
        Ok(res) => (res.status(), res.request().match_pattern()),
        // What the route was is lost with the request; such errors come from middleware only.
        Err(e) => (e.as_response_error().status_code(), None),
    };
    tracing::info!(
        target: "tungnha::access",
        status = status.as_u16(),
        elapsed_ms = elapsed.as_micros() as f64 / 1000.0,
        "request"
    );
    if let Some(state) = state {
        state
            .metrics
            .observe_request(&method, route, status.as_u16(), elapsed);
    }
    outcome
}

/// Echoes the request id that `TracingLogger` put in every log line as `x-request-id`, so a user's
/// error report can be matched with the server log.
pub async fn request_id_header(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string());
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| actix_web::http::header::HeaderValue::from_str(&id).ok())
    {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            value,
        );
    }
    Ok(res)
}

/// The root span of every request: method, route, request id and the client's address as
/// `client.rs` resolves it. The crate's default span also records an `http.client_ip` read from
/// `X-Forwarded-For`/`Forwarded` whoever sent them, which a client could forge into the log.
pub struct RootSpan;

impl tracing_actix_web::RootSpanBuilder for RootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let client = crate::client::Client::of(request.request()).addr_text();
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %request.match_pattern().unwrap_or_default(),
            http.target = %request.path(),
            client.address = %client,
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

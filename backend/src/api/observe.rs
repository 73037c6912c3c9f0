//! The outermost middleware: gives each request its id (`X-Request-Id` from the client or
//! nginx when it is a plain one, else a new one), serves it inside that id so every log line
//! carries it (`crate::logging`), answers with the id, counts it for `/metrics` by route
//! pattern, and writes the access line (the path without its query string, never a body).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;

use crate::logging;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Methods outside the standard set count as `other`: a client cannot grow the label set.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

pub async fn observe<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let id: std::sync::Arc<str> = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(logging::accept_request_id)
        .map(String::from)
        .unwrap_or_else(logging::new_request_id)
        .into();
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    let peer = req.peer_addr().map(|a| a.ip().to_canonical().to_string());
    let answered = logging::in_request(id.clone(), next.call(req)).await;
    let took = started.elapsed();
    let (status, route) = match &answered {
        Ok(res) => (
            res.status(),
            res.request().match_pattern().unwrap_or_default(),
        ),
        Err(e) => (e.as_response_error().status_code(), String::new()),
    };
    // Unrouted paths (a scanner's guesses) share one label.
    let route = if route.is_empty() {
        "unmatched".into()
    } else {
        route
    };
    crate::metrics::http_request(method_label(&method), &route, status.as_u16(), took);
    let size = match &answered {
        Ok(res) => match res.response().body().size() {
            actix_web::body::BodySize::Sized(n) => n.to_string(),
            _ => "-".into(),
        },
        Err(_) => "-".into(),
    };
    logging::with_request_id(Some(id.clone()), || {
        log::info!(
            target: "autodb::access",
            "{} \"{} {path}\" {} {size} {:.3}ms",
            peer.as_deref().unwrap_or("-"),
            method.as_str(),
            status.as_u16(),
            took.as_secs_f64() * 1000.0
        );
    });
    let mut res = answered?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

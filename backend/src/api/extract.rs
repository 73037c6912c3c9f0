//! Request extractors: the JSON body (with the failing field named), the acting user, and the
//! client address.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::services::live::Credential;
use crate::services::{Actor, Ctx};

pub const SESSION_COOKIE: &str = "autodb_session";

/// A JSON body read up to `server.max_body_bytes`; a type or shape error names the field.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = ctx(req).map_or(1 << 20, |c| c.settings.server.max_body_bytes);
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == mime_json() || m.suffix() == Some(mime_json()));
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(Body)
        })
    }
}

fn mime_json() -> actix_web::mime::Name<'static> {
    actix_web::mime::JSON
}

/// Parses with the path of the failing value kept, so the answer can name the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::MalformedJson(inner.to_string());
        }
        named_error(e.path().to_string(), strip_position(&inner.to_string()))
    })
}

/// The query string, parsed like [`Body`]: an unknown or malformed parameter is named.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = url::form_urlencoded::parse(req.query_string().as_bytes());
        let de = serde_urlencoded::Deserializer::new(pairs);
        std::future::ready(
            serde_path_to_error::deserialize(de)
                .map(Query)
                .map_err(|e| named_error(e.path().to_string(), e.inner().to_string())),
        )
    }
}

fn named_error(path: String, message: String) -> ApiError {
    {
        // Unknown and missing fields are reported at their parent; name the field itself.
        let named = quoted(&message);
        let field = match named {
            Some(n) if path == "." || path.is_empty() => n,
            Some(n) if message.starts_with("missing field") => format!("{path}.{n}"),
            _ => path,
        };
        ApiError::BadInput {
            message: format!("{field}: {message}"),
            field: Some(field),
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn quoted(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

fn ctx(req: &HttpRequest) -> Option<&Ctx> {
    req.app_data::<web::Data<Ctx>>().map(|d| d.get_ref())
}

/// The caller's address: the socket peer, or nginx's `X-Forwarded-For` when trusted.
pub fn client_addr(req: &HttpRequest) -> Option<String> {
    let trust = ctx(req).is_some_and(|c| c.settings.server.trust_proxy);
    if trust {
        if let Some(ip) = req.connection_info().realip_remote_addr() {
            return Some(ip.to_string());
        }
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

/// Whether the browser reached us over TLS (directly, or via a trusted proxy).
pub fn is_tls(req: &HttpRequest) -> bool {
    let trust = ctx(req).is_some_and(|c| c.settings.server.trust_proxy);
    req.app_config().secure() || (trust && req.connection_info().scheme() == "https")
}

/// The authenticated caller: session cookie, or `Authorization: Bearer` (login or API token).
pub struct Auth(pub Actor);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credential = credential(req);
        let ctx = ctx(req).cloned();
        Box::pin(async move {
            let (Some(credential), Some(ctx)) = (credential, ctx) else {
                return Err(crate::services::error::Error::Unauthenticated.into());
            };
            Ok(Auth(credential.verify(&ctx).await?))
        })
    }
}

/// The secret the request presents: `Authorization: Bearer`, else the session cookie.
pub fn credential(req: &HttpRequest) -> Option<Credential> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let token = bearer.or_else(|| req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()))?;
    Some(Credential::new(token, client_addr(req)))
}

/// The authenticated caller with the credential they presented, for answers that outlive the
/// request (event streams, exports): they check it again while they last (`services::live`).
pub struct LiveAuth(pub Actor, pub Credential);

impl FromRequest for LiveAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credential = credential(req);
        let ctx = ctx(req).cloned();
        Box::pin(async move {
            let (Some(credential), Some(ctx)) = (credential, ctx) else {
                return Err(crate::services::error::Error::Unauthenticated.into());
            };
            let actor = credential.verify(&ctx).await?;
            Ok(LiveAuth(actor, credential))
        })
    }
}

//! Request extractors: the JSON body (with the failing field named), the acting user (with the
//! same-origin rule for the session cookie), and the client address.

use std::net::IpAddr;

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
        let body = json_body(req, payload, limit);
        Box::pin(async move { body.await.map(Body) })
    }
}

/// A JSON body that may be left out: no body at all (whatever the Content-Type) or `null` is
/// `None`; a body is read as [`Body`] reads it (JSON only, named errors).
pub struct OptionalBody<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = ctx(req).map_or(1 << 20, |c| c.settings.server.max_body_bytes);
        let body = read_body(req, payload, limit);
        Box::pin(async move {
            let (is_json, body) = body.await?;
            if body.is_empty() {
                return Ok(OptionalBody(None));
            }
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            // `null` is no body too, as the document's `null | T` says.
            parse_json::<Option<T>>(&body).map(OptionalBody)
        })
    }
}

/// Largest body of [`SmallBody`]: a login (a name of 64 bytes, a password of 1024 characters,
/// even fully `\u`-escaped) fits many times over.
pub const SMALL_BODY_BYTES: usize = 16 * 1024;

/// A JSON body of a few short fields, read up to [`SMALL_BODY_BYTES`] whatever
/// `server.max_body_bytes` says: for the routes anyone may call without an account.
pub struct SmallBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for SmallBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = ctx(req).map_or(SMALL_BODY_BYTES, |c| {
            c.settings.server.max_body_bytes.min(SMALL_BODY_BYTES)
        });
        let body = json_body(req, payload, limit);
        Box::pin(async move { body.await.map(SmallBody) })
    }
}

fn json_body<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> LocalBoxFuture<'static, Result<T, ApiError>> {
    let is_json = is_json(req);
    let declared = declared_length(req);
    let body = read_body(req, payload, limit);
    Box::pin(async move {
        // Refused before reading: a wrong type is not worth the bytes.
        if !is_json && declared.is_none_or(|n| n <= limit) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let (_, body) = body.await?;
        parse_json(&body)
    })
}

fn is_json(req: &HttpRequest) -> bool {
    req.mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.subtype() == mime_json() || m.suffix() == Some(mime_json()))
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
}

/// The body's bytes, up to `limit`, and whether it says it is JSON.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> LocalBoxFuture<'static, Result<(bool, web::BytesMut), ApiError>> {
    let is_json = is_json(req);
    let declared = declared_length(req);
    let mut payload = payload.take();
    Box::pin(async move {
        if declared.is_some_and(|n| n > limit) {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((is_json, body))
    })
}

fn mime_json() -> actix_web::mime::Name<'static> {
    actix_web::mime::JSON
}

/// Parses with the path of the failing value kept, so the answer can name the field.
/// JSON has one kind of number: `60.0` is the integer 60 (as JSON Schema reads it), so a body
/// refused for a whole float where an integer belongs is read once more with its whole floats
/// made integers.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let e = match serde_path_to_error::deserialize(de) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() {
        return Err(ApiError::MalformedJson(inner.to_string()));
    }
    if inner.to_string().contains("invalid type: floating point") {
        if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) {
            if whole_numbers(&mut value) {
                if let Ok(v) = serde_path_to_error::deserialize(value) {
                    return Ok(v);
                }
            }
        }
    }
    Err(named_error(
        e.path().to_string(),
        strip_position(&inner.to_string()),
    ))
}

/// Makes integers of the whole floats in `v` that a double holds exactly (below 2^53); says
/// whether there were any.
fn whole_numbers(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                *v = Value::from(f as i64);
                true
            }
            _ => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, x| whole_numbers(x) | any),
        Value::Object(fields) => fields
            .values_mut()
            .fold(false, |any, x| whole_numbers(x) | any),
        _ => false,
    }
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

/// The socket peer, when `server.trust_proxy` is on and the peer is one of
/// `security.trusted_proxies`: only then are forwarding headers believed.
fn trusted_peer(req: &HttpRequest) -> Option<IpAddr> {
    let c = ctx(req)?;
    let peer = req.peer_addr()?.ip().to_canonical();
    (c.settings.server.trust_proxy && c.settings.security.is_trusted_proxy(peer)).then_some(peer)
}

/// Hops of `X-Forwarded-For` looked at, from the right: more proxies than this are not a chain.
const MAX_FORWARDED_HOPS: usize = 16;

fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The caller's address: the socket peer; behind a trusted proxy, the right-most address of
/// `X-Forwarded-For` that is not itself a trusted proxy (what a client wrote further left is
/// its own claim, never believed).
pub fn client_addr(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr().map(|a| a.ip().to_canonical());
    let (Some(_), Some(c)) = (trusted_peer(req), ctx(req)) else {
        return peer.map(|ip| ip.to_string());
    };
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev().take(MAX_FORWARDED_HOPS) {
        // A hop that is not an address ends the chain at the last proxy that wrote one.
        let Some(ip) = parse_hop(hop) else { break };
        client = Some(ip);
        if !c.settings.security.is_trusted_proxy(ip) {
            break;
        }
    }
    client.map(|ip| ip.to_string())
}

/// The right-most value of a forwarding header set by a trusted proxy.
fn forwarded(req: &HttpRequest, name: &str) -> Option<String> {
    trusted_peer(req)?;
    let last = req
        .headers()
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .next_back()?;
    let value = last.rsplit(',').next()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// Whether the browser reached us over TLS (directly, or via a trusted proxy).
pub fn is_tls(req: &HttpRequest) -> bool {
    req.app_config().secure()
        || forwarded(req, "x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// scheme, host and port of an origin, as browsers compare them.
fn origin_parts(u: &url::Url) -> Option<(String, String, u16)> {
    matches!(u.scheme(), "http" | "https").then_some(())?;
    Some((
        u.scheme().to_string(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default()?,
    ))
}

/// Whether `origin` (an `Origin` header) is the origin this request was addressed to —
/// the scheme we were reached by and `Host` (or a trusted proxy's `X-Forwarded-Host`) — or one
/// of `security.allowed_origins`.
fn is_own_origin(req: &HttpRequest, origin: &str) -> bool {
    let Some(theirs) = url::Url::parse(origin).ok().as_ref().and_then(origin_parts) else {
        return false; // "null", or not http(s)
    };
    let scheme = if is_tls(req) { "https" } else { "http" };
    let host = forwarded(req, "x-forwarded-host").or_else(|| {
        req.headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
    });
    let ours = host
        .and_then(|h| url::Url::parse(&format!("{scheme}://{h}")).ok())
        .as_ref()
        .and_then(origin_parts);
    if ours.as_ref() == Some(&theirs) {
        return true;
    }
    ctx(req).is_some_and(|c| {
        c.settings.security.allowed_origins.iter().any(|o| {
            url::Url::parse(o).ok().as_ref().and_then(origin_parts) == Some(theirs.clone())
        })
    })
}

fn sec_fetch_site(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
}

/// A change carried by the session cookie must come from AutoDB's own pages: a browser sends
/// the cookie along with another site's request too, and names that site in `Origin` (or says
/// `Sec-Fetch-Site: cross-site`). Without either header the request is refused: every browser
/// that AutoDB supports sends one of them on such requests; scripts use a bearer token.
fn require_own_origin(req: &HttpRequest) -> Result<(), ApiError> {
    let ok = match req.headers().get(header::ORIGIN) {
        Some(o) => o.to_str().is_ok_and(|o| is_own_origin(req, o)),
        None => sec_fetch_site(req) == Some("same-origin"),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::CrossOrigin)
    }
}

/// Login CSRF: another site must not log the browser in to an account of its choosing. A
/// login naming another origin (or marked cross-site or same-site) is refused; one with
/// neither header (curl, scripts) is not, as it carries no cookie to abuse.
pub fn check_login_origin(req: &HttpRequest) -> Result<(), ApiError> {
    match (req.headers().get(header::ORIGIN), sec_fetch_site(req)) {
        (Some(_), _) => require_own_origin(req),
        (None, Some("cross-site" | "same-site")) => Err(ApiError::CrossOrigin),
        (None, _) => Ok(()),
    }
}

/// The authenticated caller: session cookie, or `Authorization: Bearer` (login or API token).
pub struct Auth(pub Actor);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(actor) = verified(req) {
            return Box::pin(std::future::ready(Ok(Auth(actor))));
        }
        let credential = credential(req);
        let ctx = ctx(req).cloned();
        Box::pin(async move {
            let (Some(credential), Some(ctx)) = (credential?, ctx) else {
                return Err(crate::services::error::Error::Unauthenticated.into());
            };
            Ok(Auth(credential.verify(&ctx).await?))
        })
    }
}

/// The caller the permission table's middleware verified for this very request, kept so the
/// handler's extractor does not verify the same credential a second time.
#[derive(Clone)]
struct Verified(Actor);

/// Keeps the caller verified for this request (`api::permissions::enforce`).
pub fn remember_verified(req: &HttpRequest, actor: Actor) {
    req.extensions_mut().insert(Verified(actor));
}

fn verified(req: &HttpRequest) -> Option<Actor> {
    req.extensions().get::<Verified>().map(|v| v.0.clone())
}

/// The secret the request presents: `Authorization: Bearer`, else the session cookie. A
/// cookie on an unsafe method must come from AutoDB's own origin (403 `cross_origin`).
pub fn credential(req: &HttpRequest) -> Result<Option<Credential>, ApiError> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let token = match bearer {
        Some(t) => t,
        None => match req.cookie(SESSION_COOKIE) {
            Some(c) => {
                if !req.method().is_safe() {
                    require_own_origin(req)?;
                }
                c.value().to_string()
            }
            None => return Ok(None),
        },
    };
    Ok(Some(Credential::new(token, client_addr(req))))
}

/// The authenticated caller with the credential they presented, for answers that outlive the
/// request (event streams, exports): they check it again while they last (`services::live`).
pub struct LiveAuth(pub Actor, pub Credential);

impl FromRequest for LiveAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credential = credential(req);
        let known = verified(req);
        let ctx = ctx(req).cloned();
        Box::pin(async move {
            let (Some(credential), Some(ctx)) = (credential?, ctx) else {
                return Err(crate::services::error::Error::Unauthenticated.into());
            };
            let actor = match known {
                Some(actor) => actor,
                None => credential.verify(&ctx).await?,
            };
            Ok(LiveAuth(actor, credential))
        })
    }
}

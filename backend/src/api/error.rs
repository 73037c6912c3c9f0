//! The one mapping from errors to HTTP: a stable snake_case `error` code, a human `message`,
//! and the `field` for bad input. Unexpected errors are logged with an id and answered opaquely.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::services::error::Error;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `invalid_input`, `not_found`, `store_unavailable`.
    pub error: &'static str,
    /// In English.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The message's own stable code, finer than `error` (e.g. `chars`, `not_found`,
    /// `job_ended`), when it is a catalogued one: a client says it in its user's language with
    /// `params`; without one it shows `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The values `reason`'s message names (e.g. `{"min": 1, "max": 200}`).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] Error),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("{message}")]
    BadInput {
        field: Option<String>,
        message: String,
    },
    #[error("no route for this method and path")]
    NoRoute,
    /// The path is a route's, the method is none of its: `allow` lists those it answers.
    #[error("this path answers only {allow}")]
    MethodNotAllowed { allow: String },
    /// A cookie-authenticated change that did not come from AutoDB's own pages.
    #[error("this change must come from AutoDB's own pages (same Origin), or use an Authorization: Bearer token")]
    CrossOrigin,
}

impl ApiError {
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    fn reason(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        let fixed = |r: &'static str| Some((r, serde_json::Map::new()));
        match self {
            ApiError::Domain(e) => e.reason(),
            ApiError::PayloadTooLarge { limit } => Some((
                "payload_too_large",
                serde_json::Map::from_iter([("limit".to_string(), (*limit).into())]),
            )),
            ApiError::UnsupportedMediaType => fixed("unsupported_media_type"),
            ApiError::NoRoute => fixed("no_route"),
            ApiError::MethodNotAllowed { allow } => Some((
                "method_not_allowed",
                serde_json::Map::from_iter([("allow".to_string(), allow.as_str().into())]),
            )),
            ApiError::CrossOrigin => fixed("cross_origin"),
            ApiError::MalformedJson(_) | ApiError::BadInput { .. } => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Domain(e) => match e {
                Error::Validation { .. } | Error::Unprocessable { .. } => "invalid_input",
                Error::PasswordRequired { .. } => "password_required",
                Error::Unauthenticated => "unauthenticated",
                Error::InvalidCredentials => "invalid_credentials",
                Error::WrongPassword => "wrong_password",
                Error::TooManyAttempts { .. } => "too_many_attempts",
                Error::Forbidden(_) => "forbidden",
                Error::QueryAccountUnsafe(_) => "query_account_unsafe",
                Error::NotFound(_) => "not_found",
                Error::Conflict(_) => "conflict",
                Error::TargetFailed(_) | Error::TargetError(_) => "target_failed",
                Error::StoreUnavailable(_) => "store_unavailable",
                Error::Internal(_) => "internal",
            },
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::BadInput { .. } => "invalid_input",
            ApiError::NoRoute => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::CrossOrigin => "cross_origin",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Domain(e) => match e {
                Error::Validation { .. } | Error::PasswordRequired { .. } => {
                    StatusCode::BAD_REQUEST
                }
                Error::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                Error::Unauthenticated | Error::InvalidCredentials => StatusCode::UNAUTHORIZED,
                Error::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                Error::Forbidden(_) | Error::QueryAccountUnsafe(_) | Error::WrongPassword => {
                    StatusCode::FORBIDDEN
                }
                Error::NotFound(_) => StatusCode::NOT_FOUND,
                Error::Conflict(_) => StatusCode::CONFLICT,
                Error::TargetFailed(_) | Error::TargetError(_) => StatusCode::BAD_GATEWAY,
                Error::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MalformedJson(_) | ApiError::BadInput { .. } => StatusCode::BAD_REQUEST,
            ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::CrossOrigin => StatusCode::FORBIDDEN,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (message, field) = match self {
            ApiError::Domain(
                Error::Validation { field, message }
                | Error::Unprocessable { field, message }
                | Error::PasswordRequired { field, message },
            ) => (message.text.clone(), Some(field.clone())),
            ApiError::Domain(Error::Internal(cause)) => {
                let id = uuid::Uuid::new_v4();
                log::error!("internal error {id}: {cause}");
                (format!("internal error (reference {id})"), None)
            }
            ApiError::Domain(Error::StoreUnavailable(cause)) => {
                log::warn!("metadata store unavailable: {cause}");
                (
                    "the metadata store is unavailable; try again shortly".into(),
                    None,
                )
            }
            ApiError::Domain(e @ Error::WrongPassword) => {
                (e.to_string(), Some("current_password".into()))
            }
            ApiError::BadInput { field, message } => (message.clone(), field.clone()),
            other => (other.to_string(), None),
        };
        let mut resp = HttpResponse::build(status);
        if let ApiError::Domain(Error::TooManyAttempts { retry_after_s }) = self {
            resp.insert_header((header::RETRY_AFTER, retry_after_s.to_string()));
        }
        if let ApiError::MethodNotAllowed { allow } = self {
            resp.insert_header((header::ALLOW, allow.as_str()));
        }
        let (reason, params) = self.reason().unzip();
        resp.json(ErrorBody {
            error: self.code(),
            message,
            field,
            reason,
            params: params.unwrap_or_default(),
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

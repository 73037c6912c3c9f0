//! The OpenAPI document, made to tell the truth about the answers every route shares: the
//! routes declare what is theirs (201, 409, 502, …); [`declare_common_errors`] adds the
//! statuses the extractors, the permission check and the store give every route of a kind,
//! each with the `ErrorBody` schema. `tests/api/openapi.rs` and the schemathesis run
//! (`scripts/tests/schemathesis_test.sh`) hold the document to the server's answers.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, SecurityRequirement};
use utoipa_actix_web::AppExt;

use super::extract;
use super::permissions::{self, Access};
use crate::config::Settings;

/// The OpenAPI 3 document of every route, with the limits `settings` sets, as served at
/// `/api/openapi.json` (`autodb openapi` prints it for the default settings).
pub fn document(settings: &Settings) -> OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .service(super::scope())
        .split_for_parts();
    doc.info.title = "AutoDB".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.contact = None;
    doc.info.license = Some(utoipa::openapi::License::new("Apache-2.0"));
    doc.info.description = Some(
        "Self-hosted platform for database operations teams: targets, jobs, queries, grants."
            .into(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.add_security_scheme(
        "session_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(extract::SESSION_COOKIE))),
    );
    doc.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("session_cookie", Vec::<String>::new()),
    ]);
    declare_common_errors(&mut doc);
    declare_configured_limits(&mut doc, settings);
    doc
}

/// The bounds that come from the configuration rather than the code.
fn declare_configured_limits(doc: &mut OpenApi, settings: &Settings) {
    let q = &settings.query;
    let min_grant = settings.grants.min_duration_s;
    bound(
        doc,
        "QueryInput",
        "row_limit",
        None,
        Some(q.max_row_limit.into()),
    );
    bound(
        doc,
        "QueryInput",
        "timeout_s",
        None,
        Some(q.max_timeout_s.into()),
    );
    bound(doc, "PolicyInput", "max_duration_s", Some(min_grant), None);
    bound(doc, "GrantInput", "duration_s", Some(min_grant), None);
}

/// Sets a numeric property's bounds. A schema or property that is not there is a bug here,
/// caught by every test that builds the document.
fn bound(doc: &mut OpenApi, schema: &str, property: &str, min: Option<u64>, max: Option<u64>) {
    let number = |n: u64| utoipa::Number::UInt(usize::try_from(n).unwrap_or(usize::MAX));
    let found = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(schema))
        .and_then(|s| match s {
            RefOr::T(Schema::Object(o)) => o.properties.get_mut(property),
            _ => None,
        });
    let Some(RefOr::T(Schema::Object(p))) = found else {
        panic!("the API document has no {schema}.{property} to bound");
    };
    if let Some(min) = min {
        p.minimum = Some(number(min));
    }
    if let Some(max) = max {
        p.maximum = Some(number(max));
    }
}

/// The operations of a path, with their lower-case method names.
pub fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// Adds to each operation the error statuses that the shared machinery can answer, where the
/// route has not declared them itself:
/// - 400 when it reads a body, a query string or a path parameter (the extractors name the
///   field), 413 and 415 when it reads a body (size limit, `Content-Type`), and 422 for a
///   body this document allows whose content the service refuses;
/// - 401 and 403 unless the permission table makes it public (no or an ended credential; a
///   role below the route's, or a cookie change from another site);
/// - 404 when it has a path parameter (no such record);
/// - 503 everywhere: the metadata store did not answer.
fn declare_common_errors(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_path = params
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Path));
            let has_query = params
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Query));
            let has_body = op.request_body.is_some();
            let public =
                permissions::lookup(method, path).is_some_and(|p| p.access == Access::Public);
            let mut add = |status: &str, description: &str| {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(description));
            };
            if has_body || has_query || has_path {
                add(
                    "400",
                    "Invalid input; `field` names the parameter or body field",
                );
            }
            if has_body {
                add("413", "The body is larger than the route accepts");
                add("415", "The body is not `application/json`");
                add(
                    "422",
                    "The body matches this document but its content is refused (SQL that does not parse, an id of nothing, …); `field` names it",
                );
            }
            if !public {
                add("401", "No credential, or the session or token has ended");
                add(
                    "403",
                    "The caller's role does not allow this, or a cookie-authenticated change came from another site (`cross_origin`)",
                );
            }
            if has_path {
                add("404", "No such record (or not the caller's)");
            }
            add(
                "503",
                "The metadata store did not answer; try again shortly",
            );
        }
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::api::permissions::TABLE;

    fn documented() -> BTreeSet<(String, String)> {
        let mut doc = document(&Settings::default());
        let mut out = BTreeSet::new();
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, _) in operations(item) {
                out.insert((method.to_string(), path.clone()));
            }
        }
        out
    }

    #[test]
    fn every_routed_path_has_exactly_one_permission_entry_and_every_entry_is_routed() {
        let routes = documented();
        let table: BTreeSet<(String, String)> = TABLE
            .iter()
            .map(|p| (p.method.to_string(), p.path.to_string()))
            .collect();
        assert_eq!(table.len(), TABLE.len(), "an entry is listed twice");
        let missing: Vec<_> = routes.difference(&table).collect();
        assert!(
            missing.is_empty(),
            "routes with no permission entry: {missing:?}"
        );
        let stale: Vec<_> = table.difference(&routes).collect();
        assert!(stale.is_empty(), "entries for no route: {stale:?}");
    }
}

//! The permission table: for every route (method, path as in the route table and the OpenAPI
//! document) who may call it. It is enforced, not documentation: [`enforce`] wraps the `/api`
//! scope and checks the caller's current role against this table before any extractor or
//! handler runs. Services check the same [`Action`] again where they act, and add ownership
//! ("own records only below `owner_exempt`"). Which role each action needs is decided in one
//! place, [`Action::min_role`].
//!
//! A unit test in [`super::openapi`] and `tests/api/permissions.rs` prove the table and the
//! routes agree both ways, and the API test walks every route as every role against this table.

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use super::error::ApiError;
use super::extract;
use crate::services::error::Error;
use crate::services::{Action, Ctx};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No session needed.
    Public,
    /// Any signed-in, enabled user (the service keeps them to their own records).
    SignedIn,
    /// A signed-in user whose role allows the action.
    To(Action),
}

#[derive(Debug, Clone, Copy)]
pub struct Permission {
    /// Lower-case HTTP method, as in the OpenAPI document.
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    /// Callers whose role allows this action reach everyone's records; others only their own
    /// (checked by the service, which answers 403 or, for queries, 404).
    pub owner_exempt: Option<Action>,
}

const fn p(
    method: &'static str,
    path: &'static str,
    access: Access,
    owner_exempt: Option<Action>,
) -> Permission {
    Permission {
        method,
        path,
        access,
        owner_exempt,
    }
}

use Access::{Public, SignedIn, To};
use Action::*;

/// Every route. Keep it in the order of `api::configure`.
pub const TABLE: &[Permission] = &[
    p("get", "/api/health", Public, None),
    p("post", "/api/auth/login", Public, None),
    p("post", "/api/auth/logout", SignedIn, None),
    p("get", "/api/auth/me", SignedIn, None),
    p("post", "/api/auth/password", SignedIn, None),
    p("get", "/api/auth/tokens", SignedIn, None),
    p("post", "/api/auth/tokens", SignedIn, None),
    p("delete", "/api/auth/tokens/{id}", SignedIn, None),
    p("get", "/api/users", To(ManageUsers), None),
    p("post", "/api/users", To(ManageUsers), None),
    p("get", "/api/users/{id}", SignedIn, Some(ManageUsers)),
    p("put", "/api/users/{id}", To(ManageUsers), None),
    p("get", "/api/targets", To(Read), None),
    p("post", "/api/targets", To(ManageTargets), None),
    p("post", "/api/targets/test", To(ManageTargets), None),
    p("post", "/api/targets/import", To(ManageTargets), None),
    p("get", "/api/targets/{id}", To(Read), None),
    p("put", "/api/targets/{id}", To(ManageTargets), None),
    p("delete", "/api/targets/{id}", To(ManageTargets), None),
    p("post", "/api/targets/{id}/test", To(TestTargets), None),
    // Completion for the SQL editor: who may run queries (the catalog is read as a query is).
    p("get", "/api/targets/{id}/schema", To(RunQueries), None),
    p("get", "/api/audit", To(ReadAudit), None),
    p("get", "/api/audit/verify", To(ReadAudit), None),
    p("post", "/api/jobs", To(RunJobs), None),
    p("get", "/api/jobs", To(Read), None),
    p("get", "/api/jobs/outcomes", To(Read), None),
    p("get", "/api/jobs/{id}", To(Read), None),
    p(
        "post",
        "/api/jobs/{id}/cancel",
        To(RunJobs),
        Some(SteerAnyJob),
    ),
    p(
        "post",
        "/api/jobs/{id}/retry",
        To(RunJobs),
        Some(SteerAnyJob),
    ),
    p("get", "/api/jobs/{id}/runs", To(Read), None),
    p("get", "/api/jobs/{id}/runs/{run_id}/log", To(Read), None),
    p("get", "/api/jobs/{id}/events", To(Read), None),
    p("post", "/api/queries", To(RunQueries), None),
    // History stays readable after a demotion (the UI's query history page); running,
    // following, exporting and cancelling need the role that runs queries.
    p("get", "/api/queries", SignedIn, Some(SeeAllQueries)),
    p("get", "/api/queries/{id}", SignedIn, Some(SeeAllQueries)),
    p(
        "post",
        "/api/queries/{id}/cancel",
        To(RunQueries),
        Some(SeeAllQueries),
    ),
    p(
        "get",
        "/api/queries/{id}/events",
        To(RunQueries),
        Some(SeeAllQueries),
    ),
    p(
        "get",
        "/api/queries/{id}/results/{target_id}.csv",
        To(RunQueries),
        Some(SeeAllQueries),
    ),
    p("post", "/api/sql/split", To(Read), None),
    // Grants: who may ask is the policy's (its roles); the service checks it.
    p("post", "/api/grant-policies", To(ManageGrants), None),
    p("get", "/api/grant-policies", SignedIn, Some(ManageGrants)),
    p(
        "get",
        "/api/grant-policies/{id}",
        SignedIn,
        Some(ManageGrants),
    ),
    p("put", "/api/grant-policies/{id}", To(ManageGrants), None),
    p("delete", "/api/grant-policies/{id}", To(ManageGrants), None),
    p(
        "post",
        "/api/grant-policies/{id}/check",
        To(ManageGrants),
        None,
    ),
    p("post", "/api/grants", SignedIn, None),
    p("get", "/api/grants", SignedIn, Some(ManageGrants)),
    p("get", "/api/grants/{id}", SignedIn, Some(ManageGrants)),
    p(
        "post",
        "/api/grants/{id}/extend",
        SignedIn,
        Some(ManageGrants),
    ),
    p("post", "/api/grants/{id}/end", SignedIn, Some(ManageGrants)),
    // Who may create schedules is who may submit jobs; the owner or an admin changes them.
    p("post", "/api/schedules/preview", To(Read), None),
    p("post", "/api/schedules", To(RunJobs), None),
    p("get", "/api/schedules", To(Read), None),
    p("get", "/api/schedules/{id}", To(Read), None),
    p(
        "put",
        "/api/schedules/{id}",
        To(RunJobs),
        Some(ManageAnySchedule),
    ),
    p(
        "delete",
        "/api/schedules/{id}",
        To(RunJobs),
        Some(ManageAnySchedule),
    ),
    p(
        "post",
        "/api/schedules/{id}/run",
        To(RunJobs),
        Some(ManageAnySchedule),
    ),
    p("get", "/api/schedules/{id}/fires", To(Read), None),
];

/// The table's entry for a route, by method and route pattern.
pub fn lookup(method: &str, path: &str) -> Option<&'static Permission> {
    TABLE
        .iter()
        .find(|p| p.method.eq_ignore_ascii_case(method) && p.path == path)
}

/// The methods a route pattern answers, for `Allow` (`GET, PUT`); `None` for no route's.
pub fn allowed(path: &str) -> Option<String> {
    let methods: Vec<String> = TABLE
        .iter()
        .filter(|p| p.path == path)
        .map(|p| p.method.to_ascii_uppercase())
        .collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// The action a long-lived answer must keep allowing (its route's action).
pub fn action_of(method: &str, path: &str) -> Option<Action> {
    match lookup(method, path)?.access {
        Access::To(a) => Some(a),
        _ => None,
    }
}

/// Middleware on the `/api` scope: checks the table before anything else runs. A method that a
/// route's path does not answer is a 405 with `Allow`; requests that match no route pass on to
/// the router, which answers them (404 `no route`).
pub async fn enforce(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The path as the router reads it (percent-decoded where the router decodes), not the raw
    // request line: `/api/%6Aobs` must meet the entry of `/api/jobs`.
    let pattern = req.resource_map().match_pattern(req.match_info().as_str());
    let entry = pattern
        .as_deref()
        .and_then(|pattern| lookup(req.method().as_str(), pattern));
    if let (None, Some(allow)) = (entry, pattern.as_deref().and_then(allowed)) {
        return Ok(req.into_response(ApiError::MethodNotAllowed { allow }.error_response()));
    }
    let needed = match entry.map(|e| e.access) {
        None | Some(Access::Public) => return next.call(req).await,
        Some(Access::SignedIn) => None,
        Some(Access::To(action)) => Some(action),
    };
    let credential = match extract::credential(req.request()) {
        Ok(c) => c,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let ctx = req.app_data::<web::Data<Ctx>>().cloned();
    let (Some(credential), Some(ctx)) = (credential, ctx) else {
        return Ok(refuse(req, Error::Unauthenticated));
    };
    let actor = match credential.verify(&ctx).await {
        Ok(a) => a,
        Err(e) => return Ok(refuse(req, e)),
    };
    if let Some(action) = needed {
        if let Err(e) = actor.require_to(action) {
            return Ok(refuse(req, e));
        }
    }
    extract::remember_verified(req.request(), actor);
    next.call(req).await
}

fn refuse(req: ServiceRequest, e: Error) -> ServiceResponse<BoxBody> {
    req.into_response(ApiError::from(e).error_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_health_and_login_are_public() {
        let public: Vec<_> = TABLE
            .iter()
            .filter(|p| p.access == Access::Public)
            .map(|p| (p.method, p.path))
            .collect();
        assert_eq!(
            public,
            [("get", "/api/health"), ("post", "/api/auth/login")]
        );
    }
}

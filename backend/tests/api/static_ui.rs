//! The built UI served by the binary itself (`server.static_dir`): the same cache rules and
//! history-mode fallback as nginx's site (`nginx/autodb-locations.conf`).

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use reqwest::StatusCode;

use crate::helpers::{spawn_app_with, store_backend, TestApp};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// An app serving a small built UI: `index.html`, a favicon and one hashed bundle.
async fn app_with_ui() -> (TestApp, tempfile::TempDir) {
    let ui = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        ui.path().join("index.html"),
        "<!doctype html><script src=\"/assets/index-AbC123.js\"></script>",
    )
    .expect("index");
    std::fs::write(ui.path().join("favicon.svg"), "<svg/>").expect("favicon");
    std::fs::create_dir(ui.path().join("assets")).expect("assets");
    std::fs::write(ui.path().join("assets/index-AbC123.js"), "export {}").expect("bundle");
    let dir = ui.path().display().to_string();
    let app = spawn_app_with(&store_backend(), |s| s.server.static_dir = dir).await;
    (app, ui)
}

fn cache_control(r: &reqwest::Response) -> Option<&str> {
    r.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok())
}

#[actix_web::test]
async fn hashed_bundles_are_cached_for_a_year_and_index_html_is_revalidated() {
    let (app, _ui) = app_with_ui().await;

    let bundle = app.get("/assets/index-AbC123.js", None).await;
    assert_eq!(bundle.status(), StatusCode::OK);
    assert_eq!(cache_control(&bundle), Some(IMMUTABLE));

    for path in ["/", "/index.html", "/jobs/12", "/login?redirect=%2Faudit"] {
        let page = app.get(path, None).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let ct = page.headers().get(CONTENT_TYPE).expect("content type");
        assert!(ct.to_str().unwrap_or("").starts_with("text/html"), "{path}");
        assert_eq!(cache_control(&page), Some("no-cache"), "{path}");
    }

    // Not index.html, not a bundle: no rule of ours.
    let favicon = app.get("/favicon.svg", None).await;
    assert_eq!(favicon.status(), StatusCode::OK);
    assert_eq!(cache_control(&favicon), None);
}

#[actix_web::test]
async fn a_revalidated_index_html_or_bundle_keeps_its_cache_rule() {
    let (app, _ui) = app_with_ui().await;
    for (path, rule) in [
        ("/index.html", "no-cache"),
        ("/assets/index-AbC123.js", IMMUTABLE),
    ] {
        let first = app.get(path, None).await;
        let etag = first.headers().get("etag").expect("etag").clone();
        let again = app
            .client
            .get(app.url(path))
            .header("if-none-match", etag)
            .send()
            .await
            .expect("send");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(cache_control(&again), Some(rule), "{path}");
    }
}

#[actix_web::test]
async fn a_missing_bundle_is_a_404_not_index_html() {
    let (app, _ui) = app_with_ui().await;
    let r = app.get("/assets/index-Gone99.js", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(cache_control(&r), None);
    assert!(!r.text().await.expect("body").contains("<script"));
}

#[actix_web::test]
async fn api_answers_carry_no_ui_cache_rule() {
    let (app, _ui) = app_with_ui().await;
    let r = app.get("/api/health", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_ne!(cache_control(&r), Some(IMMUTABLE));
    assert_ne!(cache_control(&r), Some("no-cache"));
    // An unknown API path stays the API's JSON answer, not the UI's fallback.
    let r = app.get("/api/no-such-thing", None).await;
    assert_ne!(r.status(), StatusCode::OK);
    assert_eq!(cache_control(&r), None);
    assert!(r
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json")));
}

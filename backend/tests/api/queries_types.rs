//! Typed values through the API and through the CSV export, per engine; exports of large
//! results (re-run), their limits, errors and audit.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{expect_error, spawn_app, spawn_app_with, store_backend, TestApp};
use crate::jobs::{pg_target, PgDb};
use crate::queries::{maria_exec, maria_target, pg_text, sqlite_target, start, wait_done, MariaDb};

/// One CSV field as written: its text and whether it was quoted (NULL is unquoted and empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub text: String,
    pub quoted: bool,
}

/// A strict RFC 4180 reader (CRLF records, doubled quotes) that keeps the quoting.
pub fn parse_csv(body: &str) -> Vec<Vec<Field>> {
    let mut records = vec![];
    let mut record = vec![];
    let mut chars = body.chars().peekable();
    loop {
        let mut f = Field {
            text: String::new(),
            quoted: false,
        };
        if chars.peek() == Some(&'"') {
            f.quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        f.text.push('"');
                    }
                    Some('"') => break,
                    Some(c) => f.text.push(c),
                    None => panic!("unterminated quoted field"),
                }
            }
        }
        while let Some(&c) = chars.peek() {
            if c == ',' || c == '\r' {
                break;
            }
            assert!(!f.quoted, "text after a closing quote");
            f.text.push(c);
            chars.next();
        }
        record.push(f);
        match chars.next() {
            Some(',') => continue,
            Some('\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                records.push(std::mem::take(&mut record));
                if chars.peek().is_none() {
                    return records;
                }
            }
            None => {
                assert!(
                    record.len() == 1 && record[0].text.is_empty(),
                    "no final CRLF"
                );
                return records;
            }
            Some(c) => panic!("unexpected {c:?}"),
        }
    }
}

fn plain(t: &str) -> Field {
    Field {
        text: t.into(),
        quoted: false,
    }
}

fn quoted(t: &str) -> Field {
    Field {
        text: t.into(),
        quoted: true,
    }
}

async fn csv(
    app: &TestApp,
    token: &str,
    id: i64,
    target: i64,
    query: &str,
) -> (StatusCode, String) {
    let r = app
        .get(
            &format!("/api/queries/{id}/results/{target}.csv{query}"),
            Some(token),
        )
        .await;
    let status = r.status();
    if status == StatusCode::OK {
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv"));
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap_or("")
            .contains(".csv"));
    }
    (status, r.text().await.expect("body"))
}

/// Runs `sql` twice (row 1 of 2 kept: the export re-runs it; all kept: the export is the stored
/// page) and checks the typed API cells and that both exports are the same CSV.
async fn round_trip(app: &TestApp, t: &str, target: i64, sql: &str) -> (Value, Vec<Vec<Field>>) {
    let id = start(
        app,
        t,
        json!({"sql": sql, "target_ids": [target], "row_limit": 1}),
    )
    .await;
    let q = wait_done(app, t, id, 30).await;
    let res = q["results"][0].clone();
    assert_eq!(res["status"], "success", "{q}");
    assert_eq!(res["truncated"], true, "{q}");
    let (status, rerun) = csv(app, t, id, target, "").await;
    assert_eq!(status, StatusCode::OK, "{rerun}");
    let id2 = start(app, t, json!({"sql": sql, "target_ids": [target]})).await;
    let q2 = wait_done(app, t, id2, 30).await;
    assert_eq!(q2["results"][0]["truncated"], false);
    let (_, stored) = csv(app, t, id2, target, "").await;
    assert_eq!(
        rerun, stored,
        "a re-run export and a stored-page export differ"
    );
    let rows = parse_csv(&rerun);
    assert_eq!(rows.len(), 3, "header and two rows: {rerun}");
    assert_eq!(rows[1], rows[2]);
    (res, rows)
}

fn types(res: &Value) -> Vec<String> {
    res["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["type"].as_str().unwrap_or("").to_string())
        .collect()
}

#[actix_web::test]
async fn postgresql_values_keep_their_types_through_the_api_and_the_csv() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("types");
    let target = pg_target(&app, &t, &db).await;
    let sql = r#"SELECT 42::int AS i, 12345678901234567890.0123456789::numeric(30,10) AS n,
        1.5::float8 AS f, true AS b, ''::text AS empty, NULL::text AS nothing,
        DATE '2024-02-29' AS d, TIMESTAMP '2024-01-02 03:04:05.123456' AS ts,
        TIMESTAMPTZ '2024-01-02 03:04:05+02' AS tstz, '\x00ff10'::bytea AS bin,
        '{"a": [1, "x"]}'::json AS j, '{"b": null, "id": 12345678901234567890123}'::jsonb AS jb,
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, 'say "hi", ok' AS q
        FROM generate_series(1, 2)"#;
    let (res, rows) = round_trip(&app, &t, target, sql).await;
    assert_eq!(
        types(&res),
        [
            "int4",
            "numeric",
            "float8",
            "bool",
            "text",
            "text",
            "date",
            "timestamp",
            "timestamptz",
            "bytea",
            "json",
            "jsonb",
            "uuid",
            "text"
        ]
    );
    let row = &res["rows"][0];
    assert_eq!(row[0], json!({"t": "int", "v": 42}));
    assert_eq!(
        row[1],
        json!({"t": "decimal", "v": "12345678901234567890.0123456789"})
    );
    assert_eq!(row[2], json!({"t": "float", "v": 1.5}));
    assert_eq!(row[3], json!({"t": "bool", "v": true}));
    assert_eq!(row[4], json!({"t": "text", "v": ""}));
    assert_eq!(row[5], json!({"t": "null"}));
    assert_eq!(row[6], json!({"t": "date", "v": "2024-02-29"}));
    assert_eq!(
        row[7],
        json!({"t": "timestamp", "v": "2024-01-02T03:04:05.123456"})
    );
    assert_eq!(row[8]["t"], "timestamp_tz");
    let tstz = chrono::DateTime::parse_from_rfc3339(row[8]["v"].as_str().expect("tstz"))
        .expect("an RFC 3339 timestamp with its offset");
    assert_eq!(tstz.to_utc().to_rfc3339(), "2024-01-02T01:04:05+00:00");
    assert_eq!(row[9], json!({"t": "bytes", "v": "00ff10"}));
    // The database's JSON text: json keeps what was written, jsonb its own form; no digit of
    // the id is lost (a JSON number would be rounded by any reader with doubles).
    assert_eq!(row[10], json!({"t": "json", "v": r#"{"a": [1, "x"]}"#}));
    assert_eq!(
        row[11],
        json!({"t": "json", "v": r#"{"b": null, "id": 12345678901234567890123}"#})
    );
    assert_eq!(
        row[12],
        json!({"t": "text", "v": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"})
    );
    let names: Vec<&str> = rows[0].iter().map(|f| f.text.as_str()).collect();
    assert_eq!(
        names,
        ["i", "n", "f", "b", "empty", "nothing", "d", "ts", "tstz", "bin", "j", "jb", "u", "q"]
    );
    let r = &rows[1];
    assert_eq!(r[0], plain("42"));
    assert_eq!(r[1], plain("12345678901234567890.0123456789"));
    assert_eq!(r[2], plain("1.5"));
    assert_eq!(r[3], plain("true"));
    assert_eq!(r[4], quoted(""), "an empty string is \"\"");
    assert_eq!(r[5], plain(""), "NULL is an empty unquoted field");
    assert_eq!(r[6], plain("2024-02-29"));
    assert_eq!(r[7], plain("2024-01-02T03:04:05.123456"));
    assert_eq!(r[8], plain(row[8]["v"].as_str().expect("tstz")));
    assert_eq!(r[9], plain("00ff10"));
    // JSON as the database wrote it, every digit kept.
    assert_eq!(r[10], quoted(r#"{"a": [1, "x"]}"#));
    assert_eq!(
        r[11],
        quoted(r#"{"b": null, "id": 12345678901234567890123}"#)
    );
    assert_eq!(r[13], quoted(r#"say "hi", ok"#));
    // A NULL marker, when asked for.
    let id = start(
        &app,
        &t,
        json!({"sql": "SELECT NULL::text AS a, 'NULL' AS b, '' AS c", "target_ids": [target]}),
    )
    .await;
    wait_done(&app, &t, id, 30).await;
    let (_, body) = csv(&app, &t, id, target, "?null=NULL").await;
    assert_eq!(body, "a,b,c\r\nNULL,\"NULL\",\"\"\r\n");
}

#[actix_web::test]
async fn mariadb_values_keep_their_types_through_the_api_and_the_csv() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = MariaDb::new("types");
    maria_exec(
        Some(&db.0),
        "CREATE TABLE ty (d DECIMAL(30,10), dt DATETIME(6), ts TIMESTAMP NULL, b BLOB, j JSON, \
         e VARCHAR(10), n VARCHAR(10), i BIGINT)",
    );
    maria_exec(
        Some(&db.0),
        "INSERT INTO ty VALUES (12345678901234567890.0123456789, '2024-01-02 03:04:05.123456', \
         '2024-01-02 03:04:05', 0x00FF10, '{\"a\": [1, \"x\"]}', '', NULL, -7), \
         (12345678901234567890.0123456789, '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05', \
         0x00FF10, '{\"a\": [1, \"x\"]}', '', NULL, -7)",
    );
    let target = maria_target(&app, &t, &db).await;
    let (res, rows) = round_trip(&app, &t, target, "SELECT d, dt, ts, b, j, e, n, i FROM ty").await;
    assert_eq!(
        types(&res),
        [
            "DECIMAL",
            "DATETIME",
            "TIMESTAMP",
            "BLOB",
            "TEXT",
            "VARCHAR",
            "VARCHAR",
            "BIGINT"
        ]
    );
    let row = &res["rows"][0];
    assert_eq!(
        row[0],
        json!({"t": "decimal", "v": "12345678901234567890.0123456789"})
    );
    assert_eq!(
        row[1],
        json!({"t": "timestamp", "v": "2024-01-02T03:04:05.123456"})
    );
    assert_eq!(
        row[2],
        json!({"t": "timestamp", "v": "2024-01-02T03:04:05"})
    );
    assert_eq!(row[3], json!({"t": "bytes", "v": "00ff10"}));
    // MariaDB's JSON is LONGTEXT on the wire: its text, as stored.
    assert_eq!(row[4], json!({"t": "text", "v": "{\"a\": [1, \"x\"]}"}));
    assert_eq!(row[5], json!({"t": "text", "v": ""}));
    assert_eq!(row[6], json!({"t": "null"}));
    assert_eq!(row[7], json!({"t": "int", "v": -7}));
    let r = &rows[1];
    assert_eq!(r[0], plain("12345678901234567890.0123456789"));
    assert_eq!(r[1], plain("2024-01-02T03:04:05.123456"));
    assert_eq!(r[3], plain("00ff10"));
    assert_eq!(r[4], quoted("{\"a\": [1, \"x\"]}"));
    assert_eq!(r[5], quoted(""));
    assert_eq!(r[6], plain(""));
    assert_eq!(r[7], plain("-7"));
}

#[actix_web::test]
async fn sqlite_values_keep_their_types_through_the_api_and_the_csv() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let (target, path) = sqlite_target(&app, &t, "types").await;
    rusqlite::Connection::open(&path)
        .expect("open")
        .execute_batch(
            "CREATE TABLE ty (i INTEGER, r REAL, t TEXT, b BLOB, n TEXT);
             INSERT INTO ty VALUES (42, 1.5, '', x'00ff10', NULL), (42, 1.5, '', x'00ff10', NULL);",
        )
        .expect("setup");
    let (res, rows) = round_trip(&app, &t, target, "SELECT i, r, t, b, n FROM ty").await;
    assert_eq!(types(&res), ["INTEGER", "REAL", "TEXT", "BLOB", "TEXT"]);
    assert_eq!(
        res["rows"][0],
        json!([{"t": "int", "v": 42}, {"t": "float", "v": 1.5}, {"t": "text", "v": ""},
               {"t": "bytes", "v": "00ff10"}, {"t": "null"}])
    );
    assert_eq!(
        rows[1],
        [
            plain("42"),
            plain("1.5"),
            quoted(""),
            plain("00ff10"),
            plain("")
        ]
    );
}

#[actix_web::test]
async fn a_large_result_is_exported_whole_by_re_running_the_query_read_only() {
    let app = spawn_app().await;
    let t = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let db = PgDb::new("bigexport");
    let target = pg_target(&app, &admin, &db).await;
    let n = 200_000;
    let sql = format!("SELECT g, md5(g::text) AS h FROM generate_series(1, {n}) g");
    let id = start(
        &app,
        &t,
        json!({"sql": sql, "target_ids": [target], "row_limit": 100}),
    )
    .await;
    let q = wait_done(&app, &t, id, 60).await;
    assert_eq!(q["results"][0]["row_count"], 100);
    assert_eq!(q["results"][0]["truncated"], true);
    let (status, body) = csv(&app, &t, id, target, "").await;
    assert_eq!(status, StatusCode::OK);
    let (header, data) = body.split_once("\r\n").expect("header line");
    assert_eq!(header, "g,h");
    assert_eq!(data.matches("\r\n").count(), n);
    assert!(data.starts_with("1,c4ca4238a0b923820dcc509a6f75849b\r\n2,"));
    assert!(data.ends_with(&format!(
        "{n},{}\r\n",
        pg_text(&db.0, &format!("SELECT md5('{n}')"))
    )));
    let expected = pg_text(
        &db.0,
        &format!(
            "SELECT encode(sha256(convert_to(string_agg(g || ',' || md5(g::text) || E'\\r\\n', '' ORDER BY g), 'UTF8')), 'hex') \
             FROM generate_series(1, {n}) g"
        ),
    );
    assert_eq!(hex::encode(Sha256::digest(data.as_bytes())), expected);
    let audit = app.audit("object_type=query&action=export").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["detail"]["source"], "re-run");
    assert_eq!(audit[0]["object_id"], id.to_string());
}

#[actix_web::test]
async fn exports_stop_at_the_configured_maximum_and_refuse_what_cannot_be_exported() {
    let app = spawn_app_with(&store_backend(), |s| s.query.export_max_rows = 1000).await;
    let t = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let db = PgDb::new("exlim");
    let target = pg_target(&app, &admin, &db).await;
    let id = start(&app, &t, json!({"sql": "SELECT g FROM generate_series(1, 5000) g", "target_ids": [target], "row_limit": 10})).await;
    wait_done(&app, &t, id, 30).await;
    let (status, body) = csv(&app, &t, id, target, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        parse_csv(&body).len(),
        1001,
        "header and export_max_rows rows"
    );
    // Unknown target, someone else's query, a failed result, a running one, a bad marker.
    let r = app
        .get(&format!("/api/queries/{id}/results/999999.csv"), Some(&t))
        .await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let other = app.user_with_role("developer").await;
    let r = app
        .get(
            &format!("/api/queries/{id}/results/{target}.csv"),
            Some(&other),
        )
        .await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = app
        .get(
            &format!("/api/queries/{id}/results/{target}.csv?null=a,b"),
            Some(&t),
        )
        .await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "null");
    let failed = start(
        &app,
        &t,
        json!({"sql": "SELECT * FROM nowhere", "target_ids": [target]}),
    )
    .await;
    wait_done(&app, &t, failed, 30).await;
    let r = app
        .get(
            &format!("/api/queries/{failed}/results/{target}.csv"),
            Some(&t),
        )
        .await;
    expect_error(r, StatusCode::CONFLICT, "conflict").await;
    let slow = start(
        &app,
        &t,
        json!({"sql": "SELECT pg_sleep(3)", "target_ids": [target]}),
    )
    .await;
    let r = app
        .get(
            &format!("/api/queries/{slow}/results/{target}.csv"),
            Some(&t),
        )
        .await;
    expect_error(r, StatusCode::CONFLICT, "conflict").await;
    wait_done(&app, &t, slow, 30).await;
}

//! Benchmark (not a test): splitting stays linear. 10 MB scripts, realistic and adversarial,
//! each split well under a second. Run with `scripts/bench/split.sh`
//! (`cargo run --release -p autodb-sqlsplit --example bench_split`).

use std::time::{Duration, Instant};

use sqlsplit::{split, Dialect};

const ALL: [Dialect; 4] = [
    Dialect::Postgres,
    Dialect::Mysql,
    Dialect::Oracle,
    Dialect::Sqlite,
];

const TEN_MB: usize = 10 * 1024 * 1024;

fn corpus(name: &str) -> String {
    let path = format!(
        "{}/../../../shared/corpus/sakila/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// `piece` repeated to 10 MB, with `head` in front.
fn ten_mb(head: &str, piece: &str) -> String {
    let mut s = String::with_capacity(TEN_MB + piece.len() + head.len());
    s.push_str(head);
    while s.len() < TEN_MB {
        s.push_str(piece);
    }
    s
}

fn timed(label: &str, dialect: Dialect, script: &str) -> Duration {
    let start = Instant::now();
    let got = split(dialect, script);
    let took = start.elapsed();
    println!(
        "{label:<30} {:<8} {:>5.1} MB {:>8} statements  {took:?}",
        format!("{dialect:?}"),
        script.len() as f64 / 1e6,
        got.statements.len()
    );
    if took >= Duration::from_secs(1) {
        println!("  ^ over the 1 s goal");
    }
    took
}

fn main() {
    let files = [
        (Dialect::Postgres, "postgres-sakila-schema.sql"),
        (Dialect::Mysql, "mysql-sakila-schema.sql"),
        (Dialect::Oracle, "oracle-sakila-schema.sql"),
        (Dialect::Sqlite, "sqlite-sakila-schema.sql"),
    ];
    for (dialect, file) in files {
        timed("sakila schema x N", dialect, &ten_mb("", &corpus(file)));
    }
    for dialect in ALL {
        timed(
            "one line of tiny statements",
            dialect,
            &ten_mb("", "SELECT 1; "),
        );
        timed(
            "one unterminated string",
            dialect,
            &ten_mb("SELECT '", "x;y\n"),
        );
        timed("one unterminated comment", dialect, &ten_mb("/*", " ; "));
        timed(
            "many dollars and quotes",
            dialect,
            &ten_mb("", "$a$ $$ q'[ ]' `x` \"y\" "),
        );
        timed("many short lines", dialect, &ten_mb("", "SELECT\n1\n;\n"));
    }
    timed(
        "long dollar tag, never closed",
        Dialect::Postgres,
        &ten_mb("$", "a"),
    );
    timed(
        "max-length delimiter",
        Dialect::Mysql,
        &ten_mb("DELIMITER aaaaaaaaaaaaaaab\n", "a"),
    );
}

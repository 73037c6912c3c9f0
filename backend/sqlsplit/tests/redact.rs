//! `redact` on real scripts and on generated ones: the Sakila scripts hold no password and come
//! back unchanged; any text keeps its lines, and each literal taken out is gone.

use sqlsplit::{redact, split, Dialect};

const DIALECTS: [Dialect; 4] = [
    Dialect::Postgres,
    Dialect::Mysql,
    Dialect::Oracle,
    Dialect::Sqlite,
];

/// The corpus folder (`SAKILA_CORPUS` overrides it for a worktree not cloned beside `shared/`).
fn corpus(name: &str) -> String {
    let dir = std::env::var("SAKILA_CORPUS").unwrap_or_else(|_| {
        format!(
            "{}/../../../shared/corpus/sakila",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let path = format!("{dir}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

#[test]
fn the_sakila_scripts_hold_no_password_and_come_back_unchanged() {
    for (dialect, files) in [
        (
            Dialect::Postgres,
            &[
                "postgres-sakila-schema.sql",
                "postgres-sakila-drop-objects.sql",
            ][..],
        ),
        (
            Dialect::Mysql,
            &["mysql-sakila-schema.sql", "mysql-sakila-drop-objects.sql"][..],
        ),
        (
            Dialect::Oracle,
            &[
                "oracle-sakila-schema.sql",
                "oracle-sakila-schema-pl-sql.sql",
                "oracle-sakila-drop-objects.sql",
            ][..],
        ),
        (
            Dialect::Sqlite,
            &["sqlite-sakila-schema.sql", "sqlite-sakila-drop-objects.sql"][..],
        ),
    ] {
        for name in files {
            let text = corpus(name);
            let got = redact(dialect, &text);
            assert!(got.secrets.is_empty(), "{name}: {:?}", got.secrets);
            assert!(got.text == text, "{name} changed");
        }
    }
}

/// A small deterministic generator (no extra dependency): scripts made of pieces that stress
/// the lexers — quotes of every kind, comments, dollar quotes, keywords, line breaks.
fn scripts(n: usize) -> impl Iterator<Item = String> {
    const PIECES: &[&str] = &[
        "PASSWORD ",
        "IDENTIFIED ",
        "BY ",
        "WITH ",
        "VIA ",
        "USING ",
        "AS ",
        "SET ",
        "FOR ",
        "REPLACE ",
        "CONNECTION ",
        "VALUES ",
        "x ",
        "'a' ",
        "'it''s' ",
        "'\\'' ",
        "\"q\" ",
        "`b` ",
        "[c] ",
        "$$ ",
        "$t$ ",
        "E'\\n' ",
        "q'[z]' ",
        "U&'d' ",
        "-- c\n",
        "# h\n",
        "/* ",
        "*/ ",
        "/*! ",
        ";",
        "\n",
        "=",
        "(",
        ")",
        ",",
        "'",
        "\"",
        "é",
        "☃",
        "\\",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..n).map(move |_| {
        let mut s = String::new();
        let len = (state % 24) as usize;
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            s.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
        }
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        s
    })
}

#[test]
fn any_script_keeps_its_lines_and_loses_every_secret_taken() {
    for script in scripts(20_000) {
        for dialect in DIALECTS {
            let got = redact(dialect, &script);
            assert_eq!(
                got.text.matches('\n').count(),
                script.matches('\n').count(),
                "{dialect:?} {script:?} -> {:?}",
                got.text
            );
            // Each literal taken out is gone (the same text may stand elsewhere too).
            for secret in got.secrets.iter().filter(|s| s.len() > 3) {
                let count = |t: &str| t.matches(secret.as_str()).count();
                assert!(
                    count(&got.text) == 0 || count(&got.text) < count(&script),
                    "{dialect:?} {script:?} kept {secret:?}: {:?}",
                    got.text
                );
            }
            // The redacted text still splits (what the run log shows comes from it).
            let _ = split(dialect, &got.text);
        }
    }
}

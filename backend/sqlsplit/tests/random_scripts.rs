//! Thousands of pseudo-random scripts, built from the tokens that drive the
//! splitters, go through every dialect: the stable-Rust stand-in for the
//! cargo-fuzz target in `fuzz/`, so CI exercises the same invariants.

mod support;

use sqlsplit::{split, Dialect};
use support::ALL;

/// Tokens that open, close or end things in at least one dialect.
const TOKENS: &[&str] = &[
    "'",
    "\"",
    "`",
    "$$",
    "$a$",
    "$1",
    "/*",
    "*/",
    "/*!",
    "--",
    "-- ",
    "#",
    ";",
    ";;",
    "/\n",
    "\n/\n",
    ".\n",
    "\\",
    "\\g",
    "\\G",
    "\\q\n",
    "\\set x\n",
    "\\c",
    "\\.\n",
    "DELIMITER ",
    "DELIMITER //\n",
    "DELIMITER ;\n",
    "//",
    "BEGIN",
    "END",
    "CASE",
    "CREATE ",
    "OR REPLACE ",
    "FUNCTION ",
    "PROCEDURE ",
    "TRIGGER ",
    "TYPE ",
    "PACKAGE ",
    "DECLARE ",
    "ATOMIC ",
    "q'[",
    "]'",
    "nq'<",
    "Q'!",
    "E'",
    "(",
    ")",
    "[",
    "]",
    "SET ",
    "EXEC ",
    "EXIT\n",
    "REM ",
    "PROMPT x -\n",
    "@x\n",
    ".headers on\n",
    ".quit\n",
    "go\n",
    "COPY t FROM STDIN;\n",
    "use x\n",
    "SELECT 1",
    " ",
    "\t",
    "\n",
    "\r\n",
    "é",
    "ü",
    "日本",
    "🦀",
    "\u{feff}",
    "x",
    "0",
];

/// xorshift64*: tiny, deterministic, good enough to shuffle tokens.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A script of random tokens with some raw random bytes mixed in, made
/// valid UTF-8 the way a server would receive an uploaded file.
fn script(rng: &mut Rng) -> String {
    let mut bytes = Vec::new();
    for _ in 0..rng.below(60) {
        if rng.below(8) == 0 {
            bytes.push(rng.next() as u8);
        } else {
            bytes.extend_from_slice(TOKENS[rng.below(TOKENS.len())].as_bytes());
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The invariants the fuzz target checks too.
fn check(dialect: Dialect, script: &str) {
    let got = split(dialect, script);
    let last_line = script.matches('\n').count() + 1;
    let mut previous = 1;
    for s in &got.statements {
        assert!(
            !s.sql.trim().is_empty(),
            "{dialect:?} {script:?}: empty statement"
        );
        assert_eq!(
            s.sql.trim_end().len(),
            s.sql.len(),
            "{dialect:?} {script:?}: untrimmed"
        );
        assert!(
            s.line >= previous,
            "{dialect:?} {script:?}: lines go backwards"
        );
        assert!(
            s.line <= last_line,
            "{dialect:?} {script:?}: line past the end"
        );
        previous = s.line;
    }
    let others = got
        .skipped
        .iter()
        .map(|s| s.line)
        .chain(got.warnings.iter().map(|w| w.line));
    for line in others {
        assert!(
            (1..=last_line).contains(&line),
            "{dialect:?} {script:?}: bad line {line}"
        );
    }
}

#[test]
fn thousands_of_random_scripts_split_without_panics_in_every_dialect() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..4000 {
        let script = script(&mut rng);
        for dialect in ALL {
            check(dialect, &script);
        }
    }
}

#[test]
fn every_prefix_of_a_tricky_script_splits_cleanly() {
    // Cutting a script anywhere leaves every construct open at some point.
    let script = "DELIMITER //\nCREATE TRIGGER t BEGIN SELECT 'a;'; END//\nDELIMITER ;\n\
        SELECT $x$ ; $x$, E'\\'', q'[;]', \"q\"\"\", `b`, [c] /* d /* e */ */ -- f\n;\n\
        BEGIN NULL; END;\n/\nEXEC p\nCOPY t FROM STDIN;\n1\n\\.\n.tables\n";
    let ends = script.char_indices().map(|(i, _)| i).chain([script.len()]);
    for end in ends {
        for dialect in ALL {
            check(dialect, &script[..end]);
        }
    }
}

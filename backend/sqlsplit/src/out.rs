//! The result being built: statements, skipped client lines and warnings, with
//! byte offsets turned into line numbers.

use crate::{Skipped, Split, Statement, StatementKind, Warning};

/// Collects the split of one script. Dialects hand it byte ranges of the
/// script; it owns turning them into trimmed text and 1-based lines.
pub(crate) struct Out<'a> {
    pub(crate) src: &'a str,
    /// Byte offset of every `\n`, so a line lookup is a binary search instead
    /// of a rescan from the top (which would make splitting quadratic).
    newlines: Vec<usize>,
    split: Split,
}

impl<'a> Out<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        let newlines = src
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Out {
            src,
            newlines,
            split: Split::default(),
        }
    }

    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    /// 1-based line of the byte at `pos`.
    pub(crate) fn line(&self, pos: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < pos) + 1
    }

    /// Script text of `start..end`, trailing whitespace trimmed. Offsets
    /// always fall on ASCII bytes, but a lossy fallback keeps this panic-free
    /// should one ever land inside a character.
    pub(crate) fn text(&self, start: usize, end: usize) -> String {
        self.text_raw(start, end).trim_end().to_owned()
    }

    fn text_raw(&self, start: usize, end: usize) -> std::borrow::Cow<'a, str> {
        let end = end.min(self.src.len());
        let start = start.min(end);
        match self.src.get(start..end) {
            Some(s) => s.into(),
            None => String::from_utf8_lossy(self.bytes().get(start..end).unwrap_or_default()),
        }
    }

    /// Records the statement `start..end`; blank text is dropped.
    pub(crate) fn statement(&mut self, start: usize, end: usize, kind: StatementKind) {
        self.statement_with_holes(start, end, &[], kind);
    }

    /// Records the statement `start..end` minus the `holes` (client commands
    /// met inside it, which the client keeps out of the statement).
    pub(crate) fn statement_with_holes(
        &mut self,
        start: usize,
        end: usize,
        holes: &[(usize, usize)],
        kind: StatementKind,
    ) {
        let mut sql = String::new();
        let mut from = start;
        for &(a, z) in holes {
            sql.push_str(&self.text_raw(from, a));
            from = z;
        }
        sql.push_str(&self.text_raw(from, end));
        let sql = sql.trim_end().to_owned();
        self.statement_text(start, sql, kind);
    }

    /// Records a statement whose text was rewritten (SQL*Plus `EXEC`).
    pub(crate) fn statement_text(&mut self, start: usize, sql: String, kind: StatementKind) {
        if sql.trim().is_empty() {
            return;
        }
        let line = self.line(start);
        self.split.statements.push(Statement { sql, line, kind });
    }

    /// Records a client line `start..end` that is not sent.
    pub(crate) fn skipped(&mut self, start: usize, end: usize, reason: String) {
        let text = self.text(start, end).trim_start().to_owned();
        let line = self.line(start);
        self.split.skipped.push(Skipped { line, text, reason });
    }

    pub(crate) fn warn(&mut self, pos: usize, message: String) {
        let line = self.line(pos);
        self.split.warnings.push(Warning { line, message });
    }

    /// Warns that a quoted run or comment opened at `pos` never closes.
    pub(crate) fn unterminated(&mut self, pos: usize, what: &str) {
        self.warn(
            pos,
            format!("unterminated {what}: it runs to the end of the script"),
        );
    }

    /// Records the script's last statement, which lacks its terminator: the
    /// clients send it anyway at end of input, so it is returned, with a warning.
    pub(crate) fn last_statement(&mut self, start: usize, kind: StatementKind, terminator: &str) {
        self.last_statement_with_holes(start, &[], kind, terminator);
    }

    pub(crate) fn last_statement_with_holes(
        &mut self,
        start: usize,
        holes: &[(usize, usize)],
        kind: StatementKind,
        terminator: &str,
    ) {
        let before = self.split.statements.len();
        self.statement_with_holes(start, self.src.len(), holes, kind);
        if self.split.statements.len() > before {
            self.warn(
                start,
                format!("the last statement has no terminating {terminator}; it is returned as is"),
            );
        }
    }

    /// Warns when a script goes on after a client quit command at `quit`.
    pub(crate) fn ignored_after_quit(&mut self, quit: usize, rest: usize, command: &str) {
        let has_more = self
            .bytes()
            .get(rest..)
            .is_some_and(|r| r.iter().any(|b| !b.is_ascii_whitespace()));
        if has_more {
            self.warn(
                quit,
                format!("{command} ends the script; the text after it is not run"),
            );
        }
    }

    pub(crate) fn finish(self) -> Split {
        self.split
    }
}

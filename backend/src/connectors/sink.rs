//! [`VecSink`]: the simple [`RowSink`] that keeps rows in memory up to a limit, for tests, the
//! "test connection" probe and API previews where the limit bounds the memory; and
//! [`Notices`], which keeps a statement's notices up to [`NoticeLimits`] and counts the rest.

use super::{Cell, Column, ExecOutcome, RowSink};

/// Collects up to `limit` rows; the next one is refused, which makes the connector stop and
/// report `truncated = true`. With several result sets (MySQL procedures), `columns` holds the
/// latest set's header and `rows` the rows of all sets in order.
#[derive(Debug, Clone, Default)]
pub struct VecSink {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    pub limit: usize,
}

impl VecSink {
    pub fn new(limit: usize) -> Self {
        VecSink {
            columns: Vec::new(),
            rows: Vec::new(),
            limit,
        }
    }

    /// The column names, handy in assertions and previews.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
}

impl RowSink for VecSink {
    fn columns(&mut self, columns: &[Column]) {
        self.columns = columns.to_vec();
    }

    fn row(&mut self, row: Vec<Cell>) -> bool {
        if self.rows.len() >= self.limit {
            return false;
        }
        self.rows.push(row);
        true
    }
}

/// Caps on what one statement's notices (NOTICE/RAISE, warnings, DBMS_OUTPUT lines) may hold.
/// Applied while they are collected: a line past either cap is counted and let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeLimits {
    pub max_count: usize,
    pub max_bytes: usize,
}

impl Default for NoticeLimits {
    fn default() -> Self {
        NoticeLimits {
            max_count: 1000,
            max_bytes: 256 * 1024,
        }
    }
}

/// One statement's notices under [`NoticeLimits`]: the lines kept, and a count (and the bytes)
/// of those dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notices {
    limits: NoticeLimits,
    lines: Vec<String>,
    bytes: usize,
    dropped: u64,
    dropped_bytes: u64,
}

impl Notices {
    pub(crate) fn new(limits: NoticeLimits) -> Self {
        Notices {
            limits,
            ..Notices::default()
        }
    }

    /// Whether a line of `len` bytes would still be kept.
    pub(crate) fn has_room(&self, len: usize) -> bool {
        self.lines.len() < self.limits.max_count
            && self.bytes.saturating_add(len) <= self.limits.max_bytes
    }

    /// Keeps the line `make` builds if one of `len` bytes fits; else only counts it (and
    /// `make` is never called, so nothing is allocated for it).
    pub(crate) fn push_with(&mut self, len: usize, make: impl FnOnce() -> String) {
        if self.has_room(len) {
            self.bytes += len;
            self.lines.push(make());
        } else {
            self.count_dropped(1, len as u64);
        }
    }

    pub(crate) fn push(&mut self, line: String) {
        let len = line.len();
        self.push_with(len, || line);
    }

    /// Counts lines that were never fetched (their number known from the server).
    pub(crate) fn count_dropped(&mut self, lines: u64, bytes: u64) {
        self.dropped = self.dropped.saturating_add(lines);
        self.dropped_bytes = self.dropped_bytes.saturating_add(bytes);
    }

    /// Hands what was collected to `outcome` and starts empty again (same limits).
    pub(crate) fn take_into(&mut self, outcome: &mut ExecOutcome) {
        let taken = std::mem::replace(self, Notices::new(self.limits));
        outcome.notices = taken.lines;
        outcome.notices_dropped = taken.dropped;
        outcome.notices_dropped_bytes = taken.dropped_bytes;
    }

    pub(crate) fn clear(&mut self) {
        *self = Notices::new(self.limits);
    }

    pub(crate) fn set_limits(&mut self, limits: NoticeLimits) {
        self.limits = limits;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vec_sink_accepts_exactly_its_limit() {
        let mut sink = VecSink::new(2);
        assert!(sink.row(vec![Cell::Int(1)]));
        assert!(sink.row(vec![Cell::Int(2)]));
        assert!(!sink.row(vec![Cell::Int(3)]));
        assert_eq!(sink.rows.len(), 2);
    }

    #[test]
    fn notices_past_the_count_or_the_bytes_are_counted_not_kept() {
        let mut n = Notices::new(NoticeLimits {
            max_count: 3,
            max_bytes: 10,
        });
        n.push("abcd".into());
        n.push("efgh".into());
        n.push("ijk".into()); // 11 bytes: over
        n.push("ij".into());
        n.push("k".into()); // fourth line: over the count
        n.count_dropped(5, 50);
        let mut out = ExecOutcome::default();
        n.take_into(&mut out);
        assert_eq!(out.notices, ["abcd", "efgh", "ij"]);
        assert_eq!((out.notices_dropped, out.notices_dropped_bytes), (7, 54));
        // Taking starts afresh, with the same limits.
        n.push("x".into());
        let mut again = ExecOutcome::default();
        n.take_into(&mut again);
        assert_eq!((again.notices.len(), again.notices_dropped), (1, 0));
    }

    #[test]
    fn a_dropped_notice_is_never_built() {
        let mut n = Notices::new(NoticeLimits {
            max_count: 0,
            max_bytes: 0,
        });
        n.push_with(5, || unreachable!("built a line past the cap"));
        let mut out = ExecOutcome::default();
        n.take_into(&mut out);
        assert_eq!((out.notices.len(), out.notices_dropped), (0, 1));
    }
}

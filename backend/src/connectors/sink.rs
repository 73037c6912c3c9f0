//! [`VecSink`]: the simple [`RowSink`] that keeps rows in memory up to a limit, for tests, the
//! "test connection" probe and API previews where the limit bounds the memory.

use super::{Cell, Column, RowSink};

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
}

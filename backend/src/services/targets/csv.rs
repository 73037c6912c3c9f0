//! A small CSV reader for target imports (RFC 4180: cells split by commas, a double-quoted cell
//! may hold commas, line breaks and `""` for a quote; LF or CRLF; a leading BOM is skipped).
//! Blank lines are skipped. Each record keeps the line it starts on, for the per-row report.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line it starts on (the first line is 1).
    pub line: usize,
    pub cells: Vec<String>,
}

/// Why a text is not CSV, and on which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    pub why: &'static str,
}

/// The records of `text`; more than `max_records` is `Err(None)`.
pub fn parse(text: &str, max_records: usize) -> Result<Vec<Record>, Option<Malformed>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    loop {
        let start = line;
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut ended = false;
        loop {
            let Some(c) = chars.next() else {
                ended = true;
                break;
            };
            match c {
                '"' if cell.is_empty() && !quoted => {
                    quoted = true;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(Some(Malformed {
                                    line: start,
                                    why: "a quoted cell is not closed",
                                }))
                            }
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                cell.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                cell.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',' | '\n' | '\r') => {}
                        Some(_) => {
                            return Err(Some(Malformed {
                                line,
                                why: "text follows a closing quote",
                            }))
                        }
                    }
                }
                ',' => {
                    cells.push(std::mem::take(&mut cell));
                    quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    break;
                }
                c => cell.push(c),
            }
        }
        cells.push(cell);
        let blank = cells.len() == 1 && !quoted && cells[0].trim().is_empty();
        if !blank {
            if records.len() == max_records {
                return Err(None);
            }
            records.push(Record { line: start, cells });
        }
        if ended {
            return Ok(records);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(text: &str) -> Vec<Vec<String>> {
        parse(text, 100)
            .expect("csv")
            .into_iter()
            .map(|r| r.cells)
            .collect()
    }

    #[test]
    fn quoted_cells_hold_commas_quotes_and_line_breaks() {
        assert_eq!(
            cells("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",\n"),
            vec![
                vec!["a".to_string(), "b".into()],
                vec!["x, y".into(), "say \"hi\"".into()],
                vec!["two\nlines".into(), String::new()],
            ]
        );
    }

    #[test]
    fn each_record_keeps_its_first_line_and_blank_lines_are_skipped() {
        let r = parse("\u{feff}h\n\n\"a\nb\"\nc", 100).expect("csv");
        let lines: Vec<usize> = r.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 3, 5]);
        assert_eq!(r[0].cells, ["h"]);
    }

    #[test]
    fn an_open_quote_or_text_after_a_closing_one_is_malformed_with_its_line() {
        assert_eq!(
            parse("a\n\"never closed", 100),
            Err(Some(Malformed {
                line: 2,
                why: "a quoted cell is not closed"
            }))
        );
        assert_eq!(
            parse("a\n\"x\"y,z", 100).map_err(|e| e.map(|m| m.line)),
            Err(Some(2))
        );
    }

    #[test]
    fn more_records_than_allowed_is_refused() {
        assert_eq!(parse("a\nb\nc", 2), Err(None));
        assert_eq!(parse("a\nb\n\n", 2).map(|r| r.len()), Ok(2));
    }
}

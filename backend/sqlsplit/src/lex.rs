//! Lexing primitives shared by the dialects: quoted runs, comments, words and
//! whole-line tokens, all on bytes.
//!
//! Every delimiter the splitter cares about is ASCII, and UTF-8 never uses
//! ASCII bytes inside a multi-byte character, so scanning bytes is exact and
//! every offset handed out lands on a character boundary. Functions take the
//! script and an offset and return offsets; none indexes out of bounds.

/// Byte at `i`, or 0 past the end. Callers only compare it with ASCII
/// punctuation and letters, so a real NUL byte reads as "nothing special".
pub(crate) fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Offset of the `\n` that ends the line holding `pos`, or the script length.
pub(crate) fn line_end(b: &[u8], pos: usize) -> usize {
    match b
        .get(pos..)
        .and_then(|r| r.iter().position(|&c| c == b'\n'))
    {
        Some(i) => pos + i,
        None => b.len(),
    }
}

/// Offset just past the line holding `pos` (its `\n` included).
pub(crate) fn next_line(b: &[u8], pos: usize) -> usize {
    (line_end(b, pos) + 1).min(b.len())
}

/// Whether only blanks precede `pos` on its line. Scans back only over
/// blanks the caller has just skipped, so it stays linear overall.
pub(crate) fn at_line_start(b: &[u8], pos: usize) -> bool {
    let mut i = pos.min(b.len());
    while i > 0 {
        match at(b, i - 1) {
            b'\n' => return true,
            b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' => i -= 1,
            _ => return false,
        }
    }
    true
}

/// Whether `pos` is the very first column of a line.
pub(crate) fn at_column_one(b: &[u8], pos: usize) -> bool {
    pos == 0 || at(b, pos - 1) == b'\n'
}

/// Whether the line starting at `start` holds only `token` between optional
/// blanks (`/` for SQL*Plus, `go` for sqlite3, …). Returns the offset past
/// the line when it does.
pub(crate) fn lone_token_line(b: &[u8], start: usize, token: &str) -> Option<usize> {
    let end = line_end(b, start);
    let line = b.get(start..end)?;
    let trimmed = trim_ascii(line);
    trimmed
        .eq_ignore_ascii_case(token.as_bytes())
        .then(|| (end + 1).min(b.len()))
}

pub(crate) fn trim_ascii(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|c| !c.is_ascii_whitespace());
    let end = s.iter().rposition(|c| !c.is_ascii_whitespace());
    match (start, end) {
        (Some(a), Some(z)) => s.get(a..=z).unwrap_or_default(),
        _ => &[],
    }
}

/// End of a run opened by the quote byte at `pos`: a doubled quote stands
/// for itself, and with `backslash` a `\` escapes the next byte. `None`
/// when the script ends first.
pub(crate) fn quoted(b: &[u8], pos: usize, backslash: bool) -> Option<usize> {
    let quote = at(b, pos);
    let mut i = pos + 1;
    while i < b.len() {
        let c = at(b, i);
        if backslash && c == b'\\' {
            i += 2;
        } else if c == quote {
            if at(b, i + 1) == quote {
                i += 2;
            } else {
                return Some(i + 1);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// End of a `/* … */` comment starting at `pos`, nesting if the dialect
/// nests (PostgreSQL). `None` when the script ends first.
pub(crate) fn block_comment(b: &[u8], pos: usize, nested: bool) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = pos + 2;
    while i < b.len() {
        match (at(b, i), at(b, i + 1)) {
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            (b'/', b'*') if nested => {
                depth += 1;
                i += 2;
            }
            _ => i += 1,
        }
    }
    None
}

/// End of the run of bytes from `pos` accepted by `part`.
pub(crate) fn word_end(b: &[u8], pos: usize, part: fn(u8) -> bool) -> usize {
    let mut i = pos;
    while i < b.len() && part(at(b, i)) {
        i += 1;
    }
    i
}

/// Identifier byte in most dialects: ASCII letters, digits, `_`, `$`, and
/// any non-ASCII byte (letters of other scripts).
pub(crate) fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// The word of `part` bytes starting at `pos` (possibly empty).
pub(crate) fn word_at(b: &[u8], pos: usize, part: fn(u8) -> bool) -> &[u8] {
    b.get(pos..word_end(b, pos, part)).unwrap_or_default()
}

/// Case-insensitive ASCII comparison of a script word with a keyword.
pub(crate) fn is_kw(word: &[u8], kw: &str) -> bool {
    word.eq_ignore_ascii_case(kw.as_bytes())
}

/// Offset of the next non-blank byte at or after `pos`.
pub(crate) fn skip_blanks(b: &[u8], pos: usize) -> usize {
    let mut i = pos;
    while i < b.len() && at(b, i).is_ascii_whitespace() {
        i += 1;
    }
    i
}

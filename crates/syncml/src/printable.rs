//! Text from outside (a peer's message, a file, a datagram) made safe to print on one line:
//! in error messages, logs, the C log callback and the text output of the CLI.
//!
//! [`printable`] and [`printable_bytes`] are [`Display`](fmt::Display) adapters that never
//! emit a control character, an escape sequence, a line break, a bidirectional override or
//! invalid UTF-8, and that cut long input. The rules (decided here, the same everywhere):
//! - C0 controls, DEL and C1 controls are written `\xNN` (ESC is `\x1b`, a line feed `\x0a`);
//! - a backslash is written `\\`, so an escape in the output always means an escape;
//! - the Unicode line and paragraph separators and the bidirectional controls (U+061C,
//!   U+200E/F, U+202A–U+202E, U+2066–U+2069) are written `\u{NNNN}`;
//! - octets that are not UTF-8 are written `\xNN`;
//! - after [`DEFAULT_LIMIT`] octets of input (or the limit given) the rest is replaced by
//!   `…(N more octets)`.

use std::fmt;

/// How many octets of input are shown by default.
pub const DEFAULT_LIMIT: usize = 256;

/// A printable rendering of outside text; see the module documentation.
#[derive(Clone, Copy)]
pub struct Printable<'a> {
    input: &'a [u8],
    limit: usize,
    line_breaks: bool,
    backslash: bool,
}

/// Renders `text` printably (at most [`DEFAULT_LIMIT`] octets of it).
pub fn printable(text: &str) -> Printable<'_> {
    printable_bytes(text.as_bytes())
}

/// Renders `bytes` printably (at most [`DEFAULT_LIMIT`] octets of them); octets that are not
/// UTF-8 are shown as `\xNN`.
pub fn printable_bytes(bytes: &[u8]) -> Printable<'_> {
    Printable {
        input: bytes,
        limit: DEFAULT_LIMIT,
        line_breaks: false,
        backslash: true,
    }
}

impl<'a> Printable<'a> {
    /// Shows at most `limit` octets of the input.
    pub fn limit(self, limit: usize) -> Printable<'a> {
        Printable { limit, ..self }
    }

    /// Leaves backslashes as they are: for a last pass over text that may already hold
    /// escapes made by [`printable`] (an error message quoting input, a whole log line), so
    /// that they are not escaped twice. Control characters are still escaped.
    pub fn plain_backslashes(self) -> Printable<'a> {
        Printable {
            backslash: false,
            ..self
        }
    }

    /// Lets line feeds through (for text that is meant to span lines, such as an indented
    /// XML rendering); every other rule stays.
    pub fn keep_line_breaks(self) -> Printable<'a> {
        Printable {
            line_breaks: true,
            ..self
        }
    }
}

fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.input.len().min(self.limit);
        let mut rest = &self.input[..shown];
        while !rest.is_empty() {
            let (valid, bad) = match std::str::from_utf8(rest) {
                Ok(s) => (s, &[][..]),
                Err(e) => {
                    let (v, b) = rest.split_at(e.valid_up_to());
                    // A character cut by the limit is shown as octets too.
                    let bad_len = e.error_len().unwrap_or(b.len()).max(1);
                    (
                        std::str::from_utf8(v).unwrap_or_default(),
                        &b[..bad_len.min(b.len())],
                    )
                }
            };
            let mut plain = 0;
            for (i, c) in valid.char_indices() {
                let escape = if c == '\\' {
                    self.backslash
                } else {
                    must_escape(c) && !(c == '\n' && self.line_breaks)
                };
                if escape {
                    f.write_str(&valid[plain..i])?;
                    match c {
                        '\\' => f.write_str("\\\\")?,
                        c if (c as u32) < 0x100 => write!(f, "\\x{:02x}", c as u32)?,
                        c => write!(f, "\\u{{{:04x}}}", c as u32)?,
                    }
                    plain = i + c.len_utf8();
                }
            }
            f.write_str(&valid[plain..])?;
            for b in bad {
                write!(f, "\\x{b:02x}")?;
            }
            rest = &rest[valid.len() + bad.len()..];
        }
        if self.input.len() > shown {
            write!(f, "…({} more octets)", self.input.len() - shown)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_escape_sequences_are_escaped() {
        assert_eq!(
            printable("a\x1b[31mred\nnext\tz\0").to_string(),
            "a\\x1b[31mred\\x0anext\\x09z\\x00"
        );
        assert_eq!(printable("c:\\x1b").to_string(), "c:\\\\x1b");
        assert_eq!(printable("\u{202e}abc").to_string(), "\\u{202e}abc");
        assert_eq!(printable("\u{85}").to_string(), "\\x85");
    }

    #[test]
    fn invalid_utf8_is_shown_as_octets() {
        assert_eq!(printable_bytes(b"ok\xff\xfe!").to_string(), "ok\\xff\\xfe!");
        assert_eq!(printable_bytes("é".as_bytes()).to_string(), "é");
    }

    #[test]
    fn long_input_is_cut() {
        let long = "x".repeat(10_000);
        let shown = printable(&long).to_string();
        assert!(shown.len() < DEFAULT_LIMIT + 40, "{}", shown.len());
        assert!(shown.ends_with("…(9744 more octets)"), "{shown}");
        // A cut inside a character shows its first octets, never invalid UTF-8.
        let s = printable("aé").limit(2).to_string();
        assert_eq!(s, "a\\xc3…(1 more octets)");
    }

    #[test]
    fn the_output_is_one_printable_line_whatever_the_input() {
        for seed in 0u32..2000 {
            let bytes: Vec<u8> = (0..64)
                .map(|i| (seed.wrapping_mul(2654435761).wrapping_add(i * 97) >> 7) as u8)
                .collect();
            let out = printable_bytes(&bytes).to_string();
            assert!(out.chars().all(|c| !must_escape(c)), "{out:?}");
        }
    }
}

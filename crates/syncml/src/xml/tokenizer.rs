//! The XML tokenizer the decoder runs on: one pass over input already known to be UTF-8,
//! markup found by byte scans, names and text handed out as slices of the input.
//!
//! It knows what SyncML DM documents contain: elements (an empty element gives a start and an
//! end), their attributes as raw text (read only by whoever needs them: namespace
//! declarations), text (raw: references and line ends are resolved by [`unescape`]), and
//! CDATA. Comments, processing instructions, the XML declaration and a DOCTYPE (its internal
//! subset included, never interpreted) are skipped. Every end tag must close the element
//! open; nothing is expanded, so no input can grow.

use std::borrow::Cow;

use crate::error::{DecodeError, ErrorKind};

/// The markup the reader's short path takes: a tag without attributes or with a default
/// namespace declaration alone, or the end of the element open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plain<'a> {
    /// `<Name>`, `<Name/>`, `<Name xmlns="uri">` or `<Name xmlns="uri"/>` (then a
    /// [`Plain::End`] or [`Token::End`] follows). The name has no prefix (no `:`).
    Start {
        /// The element's name.
        name: &'a str,
        /// The URI its declaration ` xmlns="uri"` binds the default namespace to, if it
        /// has that attribute (its only one).
        default_ns: Option<&'a str>,
    },
    /// `</Name>` closing the element open, or the end of an empty element.
    End,
}

/// A start tag whose only attribute declares the default namespace, as
/// [`Tokenizer::namespaced_start`] read it.
struct NamespacedStart<'a> {
    /// The element's name.
    name: &'a str,
    /// Its attribute text, ` xmlns="uri"`.
    attrs: &'a str,
    /// The URI declared.
    uri: &'a str,
}

/// One piece of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// `<name attrs>` or `<name attrs/>` (then an [`Token::End`] follows).
    Start {
        /// The qualified name (`Get`, `m:Format`).
        name: &'a str,
        /// What follows the name inside the tag, untouched.
        attrs: &'a str,
    },
    /// `</name>`, or the end of an empty element.
    End,
    /// Character data as written (references and CR not yet resolved).
    Text(&'a str),
    /// The content of a CDATA section.
    CData(&'a str),
    /// The end of the input.
    Eof,
}

/// Reads the tokens of one document.
pub(crate) struct Tokenizer<'a> {
    input: &'a str,
    pos: usize,
    /// The element just started was empty: its end comes next.
    pending_end: bool,
    /// Names of the open elements, innermost last (the caller bounds the depth).
    open: Vec<&'a str>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Offset of the first `needle` (a few octets: `?>`, `-->`, `]]>`) in `hay` at or after
/// `from`: its first octet searched by `memchr`, the rest compared there.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let mut i = from;
    while i + needle.len() <= hay.len() {
        i += memchr::memchr(needle[0], &hay[i..])?;
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Offset of the first `needle` in `hay`: the first octets by a plain loop (most text
/// between tags is a few octets, shorter than a vector search takes to set up), the rest by
/// `memchr`.
fn find_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    const SHORT: usize = 64;
    let head = &hay[..hay.len().min(SHORT)];
    if let Some(k) = head.iter().position(|&b| b == needle) {
        return Some(k);
    }
    memchr::memchr(needle, hay.get(SHORT..)?).map(|k| SHORT + k)
}

/// `text[from..to]`, as indexing gives it (and panicking as it does off a character
/// boundary), by two splits that stay in line where indexing a `str` costs a call: the
/// short paths slice at ASCII octets, always boundaries.
#[inline(always)]
fn between(text: &str, from: usize, to: usize) -> &str {
    text.split_at(to).0.split_at(from).1
}

/// How the one attribute of a start tag the short path reads begins: a default namespace
/// declaration.
const NAMESPACE_DECLARATION: &str = " xmlns=\"";

/// The octets that end text (`<`) or make it more than a slice of the input (`&`, CR, NUL),
/// as a table: a leaf's text is scanned once for both.
static STOPS_PLAIN_TEXT: [bool; 256] = {
    let mut table = [false; 256];
    table[b'<' as usize] = true;
    table[b'&' as usize] = true;
    table[b'\r' as usize] = true;
    table[0] = true;
    table
};

/// Where the text starting `hay` ends (its first `<`), and whether it is plain (no `&`, CR
/// or NUL before it): short text in one table-driven scan, longer text as [`find_byte`]
/// and a second scan.
fn text_end(hay: &[u8]) -> Option<(usize, bool)> {
    const SHORT: usize = 64;
    let head = &hay[..hay.len().min(SHORT)];
    match head.iter().position(|&b| STOPS_PLAIN_TEXT[usize::from(b)]) {
        Some(k) if head[k] == b'<' => return Some((k, true)),
        None if head.len() < SHORT => return None,
        _ => {}
    }
    let lt = find_byte(b'<', hay)?;
    let plain = !hay[..lt].iter().any(|&b| STOPS_PLAIN_TEXT[usize::from(b)]);
    Some((lt, plain))
}

/// The octets that end an element name in the common, attribute-less tag (`<Name>`,
/// `<Name/>`; a name ended by anything else is read by the general path), as a table: one
/// load per octet of every name read.
static ENDS_PLAIN_NAME: [bool; 256] = {
    let mut table = [false; 256];
    // `:` too: a name read by the short paths has no prefix (a prefixed one is read by
    // `general_start_tag`), so the reader need not look for one.
    let ends = b"> /\t\r\n\"'<:";
    let mut i = 0;
    while i < ends.len() {
        table[ends[i] as usize] = true;
        i += 1;
    }
    table
};

impl<'a> Tokenizer<'a> {
    /// A tokenizer over `input` (a leading byte-order mark is skipped).
    pub(crate) fn new(input: &'a str) -> Self {
        let pos = if input.starts_with('\u{FEFF}') { 3 } else { 0 };
        Tokenizer {
            input,
            pos,
            pending_end: false,
            open: Vec::new(),
        }
    }

    /// Where the next token starts.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn eof(&self) -> DecodeError {
        DecodeError::new(ErrorKind::UnexpectedEof, self.input.len())
    }

    fn syntax(&self, at: usize, message: String) -> DecodeError {
        DecodeError::new(ErrorKind::Xml(message), at)
    }

    /// The next token. Skipped markup is consumed silently.
    pub(crate) fn next_token(&mut self) -> Result<Token<'a>, DecodeError> {
        if self.pending_end {
            self.pending_end = false;
            self.open.pop();
            return Ok(Token::End);
        }
        loop {
            let bytes = self.input.as_bytes();
            let start = self.pos;
            let Some(&first) = bytes.get(start) else {
                return Ok(Token::Eof);
            };
            if first != b'<' {
                let len = find_byte(b'<', &bytes[start..]).unwrap_or(bytes.len() - start);
                self.pos = start + len;
                return Ok(Token::Text(&self.input[start..start + len]));
            }
            match bytes.get(start + 1) {
                None => return Err(self.eof()),
                Some(b'/') => return self.end_tag(start),
                Some(b'?') => {
                    let end = find(bytes, start + 2, b"?>").ok_or_else(|| self.eof())?;
                    self.pos = end + 2;
                }
                Some(b'!') => {
                    let rest = &bytes[start..];
                    if rest.starts_with(b"<!--") {
                        let end = find(bytes, start + 4, b"-->").ok_or_else(|| self.eof())?;
                        self.pos = end + 3;
                    } else if rest.starts_with(b"<![CDATA[") {
                        let from = start + 9;
                        let end = find(bytes, from, b"]]>").ok_or_else(|| self.eof())?;
                        self.pos = end + 3;
                        return Ok(Token::CData(&self.input[from..end]));
                    } else if rest.starts_with(b"<!DOCTYPE") {
                        self.pos = self.doctype_end(start)?;
                    } else if start + 9 > bytes.len() {
                        return Err(self.eof());
                    } else {
                        return Err(self.syntax(start, "unknown markup `<!`".into()));
                    }
                }
                Some(_) => return self.start_tag(start),
            }
        }
    }

    /// After `<!DOCTYPE` at `start`: the offset after its `>`, skipping quoted text and an
    /// internal subset.
    fn doctype_end(&self, start: usize) -> Result<usize, DecodeError> {
        let bytes = self.input.as_bytes();
        let mut i = start + 9;
        let mut quote = None;
        let mut subset = false;
        while let Some(&b) = bytes.get(i) {
            match (quote, b) {
                (Some(q), _) if b == q => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(b),
                (None, b'[') => subset = true,
                (None, b']') => subset = false,
                (None, b'>') if !subset => return Ok(i + 1),
                _ => {}
            }
            i += 1;
        }
        Err(self.eof())
    }

    /// When the next token is `<Name>`, `<Name/>`, `<Name xmlns="uri">` (or empty),
    /// `</Name>` closing the element open, or the end of an empty element: that token, read
    /// (what [`Tokenizer::next_token`] would give).
    /// Otherwise nothing is read: text, other markup, and every malformed tag are left to
    /// `next_token`.
    pub(crate) fn plain_markup(&mut self) -> Option<Plain<'a>> {
        if self.pending_end {
            self.pending_end = false;
            self.open.pop();
            return Some(Plain::End);
        }
        let start = self.pos;
        match self.input.as_bytes().get(start..start + 2)? {
            [b'<', b'/'] => self.plain_end(start).then_some(Plain::End),
            // Comments, CDATA, DOCTYPE, processing instructions: `next_token`'s.
            [b'<', b'!' | b'?'] => None,
            [b'<', _] => {
                let at = self.name_end(start)?;
                if let Some(name) = self.plain_start_at(start, at) {
                    return Some(Plain::Start {
                        name,
                        default_ns: None,
                    });
                }
                let tag = self.namespaced_start(start, at)?;
                Some(Plain::Start {
                    name: tag.name,
                    default_ns: Some(tag.uri),
                })
            }
            _ => None,
        }
    }

    /// Where the name of the tag at `start` ends (at an octet of [`ENDS_PLAIN_NAME`]), when
    /// it has one: one scan of the name.
    // In line: on the path of every start tag (a call measured 1% of an XML message).
    #[inline(always)]
    fn name_end(&self, start: usize) -> Option<usize> {
        let bytes = self.input.as_bytes();
        let at = start
            + 1
            + bytes[start + 1..]
                .iter()
                .position(|&b| ENDS_PLAIN_NAME[usize::from(b)])?;
        (at > start + 1).then_some(at)
    }

    /// Opens the element of the tag at `start` whose name ends at `name_end`; the tag's last
    /// octet is at `gt`, and it is `empty` (`/>`).
    // In line: on the path of every start tag (a call measured 1% of an XML message).
    #[inline(always)]
    fn opened(&mut self, start: usize, name_end: usize, gt: usize, empty: bool) -> &'a str {
        let name = between(self.input, start + 1, name_end);
        self.pos = gt + 1;
        self.open.push(name);
        self.pending_end = empty;
        name
    }

    /// `<Name>` or `<Name/>` at `start`, read, the name's end known (`at`); `None` (nothing
    /// read) for any other tag.
    // In line: on the path of every start tag (a call measured 1% of an XML message).
    #[inline(always)]
    fn plain_start_at(&mut self, start: usize, at: usize) -> Option<&'a str> {
        let bytes = self.input.as_bytes();
        let empty = match (bytes[at], bytes.get(at + 1)) {
            (b'>', _) => false,
            (b'/', Some(b'>')) => true,
            _ => return None,
        };
        Some(self.opened(start, at, at + usize::from(empty), empty))
    }

    /// `</Name>` at `start` naming the element open, read; false (nothing read) otherwise.
    fn plain_end(&mut self, start: usize) -> bool {
        let bytes = self.input.as_bytes();
        let Some(&open) = self.open.last() else {
            return false;
        };
        let after = start + 2 + open.len();
        let closes = bytes.get(after) == Some(&b'>')
            && crate::tag::same_name(&bytes[start + 2..after], open.as_bytes());
        if closes {
            self.open.pop();
            self.pos = after + 1;
        }
        closes
    }

    /// `<Name xmlns="uri">` or `<Name xmlns="uri"/>` at `start` (a URI without `"` or `<`),
    /// read; `None` (nothing read) for any other tag. The name's end is known (`at`).
    fn namespaced_start(&mut self, start: usize, at: usize) -> Option<NamespacedStart<'a>> {
        let bytes = self.input.as_bytes();
        if !bytes[at..].starts_with(NAMESPACE_DECLARATION.as_bytes()) {
            return None;
        }
        let uri = at + NAMESPACE_DECLARATION.len();
        let close = uri + bytes[uri..].iter().position(|&b| b == b'"' || b == b'<')?;
        let empty = match (bytes[close], bytes.get(close + 1), bytes.get(close + 2)) {
            (b'"', Some(b'>'), _) => false,
            (b'"', Some(b'/'), Some(b'>')) => true,
            _ => return None,
        };
        let name = self.opened(start, at, close + 1 + usize::from(empty), empty);
        Some(NamespacedStart {
            name,
            attrs: between(self.input, at, close + 1),
            uri: between(self.input, uri, close),
        })
    }

    /// `<name attrs>` or `<name attrs/>` at `start`.
    fn start_tag(&mut self, start: usize) -> Result<Token<'a>, DecodeError> {
        // Nearly every tag is `<Name>` or `<Name/>`; MetInf's carry their namespace.
        if let Some(at) = self.name_end(start) {
            if let Some(name) = self.plain_start_at(start, at) {
                return Ok(Token::Start {
                    name,
                    attrs: &self.input[self.pos..self.pos],
                });
            }
            if let Some(tag) = self.namespaced_start(start, at) {
                return Ok(Token::Start {
                    name: tag.name,
                    attrs: tag.attrs,
                });
            }
        }
        self.general_start_tag(start)
    }

    /// A start tag with attributes, or malformed: quotes followed, every rule checked.
    fn general_start_tag(&mut self, start: usize) -> Result<Token<'a>, DecodeError> {
        let bytes = self.input.as_bytes();
        // Outside quotes the tag ends at `>`; a quote opens a value, closed by the same quote;
        // `<` is refused in either.
        let mut i = start + 1;
        let gt = loop {
            let k = bytes[i..]
                .iter()
                .position(|&b| matches!(b, b'>' | b'"' | b'\'' | b'<'))
                .ok_or_else(|| self.eof())?;
            i += k;
            match bytes[i] {
                b'>' => break i,
                b'<' => return Err(self.syntax(i, "`<` inside a tag".into())),
                quote => {
                    let k = bytes[i + 1..]
                        .iter()
                        .position(|&b| b == quote || b == b'<')
                        .ok_or_else(|| self.eof())?;
                    i += 1 + k;
                    if bytes[i] == b'<' {
                        return Err(self.syntax(i, "`<` in an attribute value".into()));
                    }
                    i += 1;
                }
            }
        };
        let empty = bytes[gt - 1] == b'/' && gt - 1 > start;
        let inner_end = if empty { gt - 1 } else { gt };
        let inner = &self.input[start + 1..inner_end];
        let name_len = inner
            .bytes()
            .position(|b| is_space(b) || b == b'/')
            .unwrap_or(inner.len());
        if name_len == 0 {
            return Err(self.syntax(start, "an element without a name".into()));
        }
        let (name, attrs) = inner.split_at(name_len);
        if attrs.bytes().any(|b| b == b'/') && !attrs_quoted_slash_only(attrs) {
            return Err(self.syntax(start, format!("malformed tag <{}", excerpt(inner))));
        }
        self.pos = gt + 1;
        self.open.push(name);
        self.pending_end = empty;
        Ok(Token::Start { name, attrs })
    }

    /// When what follows is character data without markup (possibly none) and then the end
    /// tag of the element open, `</Name>` exactly: both read, and the raw text returned with
    /// the end tag's offset and whether it is plain (no reference, CR or NUL: the text as it
    /// is). Otherwise nothing is read.
    pub(crate) fn leaf_text(&mut self) -> Option<(&'a str, usize, bool)> {
        if self.pending_end {
            return None;
        }
        let bytes = self.input.as_bytes();
        let start = self.pos;
        let (k, plain) = text_end(bytes.get(start..)?)?;
        let lt = start + k;
        let open = *self.open.last()?;
        let after = lt + 2 + open.len();
        let closes = bytes.get(lt + 1) == Some(&b'/')
            && bytes.get(after) == Some(&b'>')
            && crate::tag::same_name(&bytes[lt + 2..after], open.as_bytes());
        if !closes {
            return None;
        }
        self.open.pop();
        self.pos = after + 1;
        Some((between(self.input, start, lt), lt, plain))
    }

    /// The name of the innermost open element, as written.
    pub(crate) fn innermost(&self) -> Option<&'a str> {
        self.open.last().copied()
    }

    /// `</name>` at `start`: must close the element open.
    fn end_tag(&mut self, start: usize) -> Result<Token<'a>, DecodeError> {
        // Nearly always `</Name>` naming the element open: compared in place.
        if self.plain_end(start) {
            return Ok(Token::End);
        }
        let bytes = self.input.as_bytes();
        let gt = memchr::memchr(b'>', &bytes[start..])
            .map(|k| start + k)
            .ok_or_else(|| self.eof())?;
        let mut end = gt;
        while end > start + 2 && is_space(bytes[end - 1]) {
            end -= 1;
        }
        let name = &self.input[start + 2..end];
        match self.open.pop() {
            Some(open) if open == name => {
                self.pos = gt + 1;
                Ok(Token::End)
            }
            Some(open) => Err(self.syntax(
                start,
                format!("expected </{}>, found </{}>", excerpt(open), excerpt(name)),
            )),
            None => Err(self.syntax(start, format!("</{}> closes nothing", excerpt(name)))),
        }
    }
}

/// Whether every `/` in attribute text is inside a quoted value.
fn attrs_quoted_slash_only(attrs: &str) -> bool {
    let mut quote = None;
    for b in attrs.bytes() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'/') => return false,
            _ => {}
        }
    }
    true
}

fn excerpt(text: &str) -> String {
    crate::printable(text).limit(64).to_string()
}

/// The attributes of a tag's raw attribute text, as (name, raw value) pairs.
pub(crate) fn attributes(attrs: &str) -> impl Iterator<Item = Result<(&str, &str), String>> {
    let mut rest = attrs;
    std::iter::from_fn(move || {
        rest = trim_space_start(rest);
        if rest.is_empty() {
            return None;
        }
        let Some(eq) = rest.bytes().position(|b| b == b'=') else {
            let bad = excerpt(rest);
            rest = "";
            return Some(Err(format!("attribute without a value: {bad}")));
        };
        let name = trim_space_end(&rest[..eq]);
        let after = trim_space_start(&rest[eq + 1..]);
        let quote = after.bytes().next().filter(|&b| b == b'"' || b == b'\'');
        let (Some(quote), false) = (quote, name.is_empty() || name.bytes().any(is_space)) else {
            let bad = excerpt(rest);
            rest = "";
            return Some(Err(format!("malformed attribute: {bad}")));
        };
        let Some(close) = after.bytes().skip(1).position(|b| b == quote) else {
            rest = "";
            return Some(Err("unterminated attribute value".into()));
        };
        let value = &after[1..1 + close];
        rest = &after[close + 2..];
        Some(Ok((name, value)))
    })
}

/// `text` without its leading XML white space.
fn trim_space_start(text: &str) -> &str {
    let k = text
        .bytes()
        .position(|b| !is_space(b))
        .unwrap_or(text.len());
    &text[k..]
}

/// `text` without its trailing XML white space.
fn trim_space_end(text: &str) -> &str {
    let k = text
        .bytes()
        .rposition(|b| !is_space(b))
        .map_or(0, |k| k + 1);
    &text[..k]
}

/// What is wrong with a reference in text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadReference {
    /// A `&` that starts no reference (`a & b`): it should have been escaped. At its offset
    /// in the text.
    BareAmpersand(usize),
    /// `&name;` naming no predefined entity or character (the name, and the `&`'s offset).
    Unknown(String, usize),
}

/// Resolves the character data `raw`: the five predefined entities and character references
/// become their characters, CR LF and lone CR become LF. Text with none of these is
/// borrowed as it is.
pub(crate) fn unescape(raw: &str) -> Result<Cow<'_, str>, BadReference> {
    let bytes = raw.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b == b'&' || b == b'\r') else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut i = first;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => {
                out.push('\n');
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
            b'&' => {
                let semi = bytes[i + 1..].iter().position(|&b| b == b';');
                let Some(len) = semi else {
                    return Err(BadReference::BareAmpersand(i));
                };
                let name = &raw[i + 1..i + 1 + len];
                if name.is_empty()
                    || name
                        .chars()
                        .any(|c| c.is_whitespace() || "<>&\"'".contains(c))
                {
                    return Err(BadReference::BareAmpersand(i));
                }
                let c = resolve(name).ok_or_else(|| BadReference::Unknown(name.to_owned(), i))?;
                out.push(c);
                i += len + 2;
            }
            _ => {
                let next = bytes[i..]
                    .iter()
                    .position(|&b| b == b'&' || b == b'\r')
                    .map_or(bytes.len(), |k| i + k);
                out.push_str(&raw[i..next]);
                i = next;
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// The character a reference names (without `&` and `;`).
fn resolve(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            if !number
                .bytes()
                .skip_while(|&b| b == b'x')
                .all(|b| b.is_ascii_hexdigit())
            {
                return None;
            }
            // Any character but NUL: our writer refers to the C0 controls XML 1.0 cannot carry
            // (as XML 1.1 does) so that no value is silently changed, and reads them back.
            char::from_u32(code).filter(|&c| c != '\0')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As [`tokens`], taking [`Tokenizer::plain_markup`] first wherever it answers (as the
    /// reader does), `next_token` elsewhere.
    fn with_short_path(text: &str) -> Result<Vec<Token<'_>>, DecodeError> {
        let mut t = Tokenizer::new(text);
        let mut out = Vec::new();
        loop {
            let at = t.position();
            let token = match t.plain_markup() {
                Some(Plain::Start { name, default_ns }) => {
                    // The attribute text as `next_token` borrows it from the tag.
                    let attrs = default_ns.map_or(String::new(), |uri| {
                        format!("{NAMESPACE_DECLARATION}{uri}\"")
                    });
                    let from = at + 1 + name.len();
                    assert_eq!(&text[from..from + attrs.len()], attrs);
                    Token::Start {
                        name,
                        attrs: &text[from..from + attrs.len()],
                    }
                }
                Some(Plain::End) => Token::End,
                None => t.next_token()?,
            };
            out.push(token);
            if token == Token::Eof {
                return Ok(out);
            }
        }
    }

    fn tokens(text: &str) -> Result<Vec<Token<'_>>, DecodeError> {
        let mut t = Tokenizer::new(text);
        let mut out = Vec::new();
        loop {
            let token = t.next_token()?;
            out.push(token);
            if token == Token::Eof {
                return Ok(out);
            }
        }
    }

    #[test]
    fn elements_text_cdata_and_skipped_markup() {
        let doc = "\u{FEFF}<?xml version=\"1.0\"?><!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \"x.dtd\" [<!ENTITY a \"]>\">]><!-- c --><A x='1>'><B/>t&amp;<![CDATA[<c>]]></A >";
        assert_eq!(
            tokens(doc).unwrap(),
            vec![
                Token::Start {
                    name: "A",
                    attrs: " x='1>'"
                },
                Token::Start {
                    name: "B",
                    attrs: ""
                },
                Token::End,
                Token::Text("t&amp;"),
                Token::CData("<c>"),
                Token::End,
                Token::Eof,
            ]
        );
    }

    #[test]
    fn end_tags_must_match_and_truncations_are_eof() {
        let err = tokens("<A><B></A></B>").unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Xml(ref m) if m.contains("expected </B>")));
        assert_eq!(tokens("</A>").unwrap_err().offset, 0);
        let doc = "<A b=\"c\"><!-- x --><![CDATA[y]]><?p q?></A>";
        for cut in 1..doc.len() {
            if let Err(e) = tokens(&doc[..cut]) {
                assert!(e.offset <= cut, "{cut}: {e}");
            }
        }
        assert_eq!(tokens("<A").unwrap_err().kind, ErrorKind::UnexpectedEof);
        assert_eq!(tokens("<!--").unwrap_err().kind, ErrorKind::UnexpectedEof);
    }

    #[test]
    fn the_common_tag_shapes_take_the_short_path_with_every_rule_kept() {
        // An end tag naming a prefix or an extension of the open element's name.
        for doc in ["<Ab></A>", "<A></Ab>", "<A></A", "<A></"] {
            assert!(tokens(doc).is_err(), "{doc}");
        }
        // A `/` that does not end the tag, an empty name.
        for doc in ["<A/ >", "<A/b>", "<A/", "</>", "<>", "</ >"] {
            assert!(tokens(doc).is_err(), "{doc}");
        }
        // A namespace declaration alone, and what is not quite one.
        for doc in [
            "<A xmlns=\"u<v\"></A>",
            "<A xmlns=\"u\"",
            "<A xmlns=\"u\"/",
            "<A xmlns=\"u",
        ] {
            assert!(tokens(doc).is_err(), "{doc}");
        }
        // (Attributes after it are the general path's, read by the reader when it asks.)
        assert_eq!(
            tokens("<A xmlns=\"u\"x></A>").unwrap()[0],
            Token::Start {
                name: "A",
                attrs: " xmlns=\"u\"x"
            }
        );
        assert_eq!(
            tokens("<A xmlns=\"u\"/>").unwrap(),
            [
                Token::Start {
                    name: "A",
                    attrs: " xmlns=\"u\""
                },
                Token::End,
                Token::Eof
            ]
        );
        let end = |doc| tokens(doc).unwrap().len();
        assert_eq!(end("<A></A>"), 3);
        assert_eq!(end("<A></A >"), 3);
        assert_eq!(end("<A/>"), 3);
        assert_eq!(end("<A\n/>"), 3);
        // Text shorter and longer than the plain loop's reach, `<` at its edge.
        for len in [0, 1, 63, 64, 65, 200] {
            let text = "x".repeat(len);
            let doc = format!("<A>{text}</A>");
            let want = if len == 0 {
                vec![
                    Token::Start {
                        name: "A",
                        attrs: "",
                    },
                    Token::End,
                    Token::Eof,
                ]
            } else {
                vec![
                    Token::Start {
                        name: "A",
                        attrs: "",
                    },
                    Token::Text(&text),
                    Token::End,
                    Token::Eof,
                ]
            };
            assert_eq!(tokens(&doc).unwrap(), want, "{len}");
        }
    }

    #[test]
    fn references_and_line_ends_resolve_and_plain_text_is_borrowed() {
        assert!(matches!(unescape("plain"), Ok(Cow::Borrowed("plain"))));
        assert_eq!(
            unescape("a&lt;b&gt;&amp;&apos;&quot;&#65;&#x42;\r\nc\rd").unwrap(),
            "a<b>&'\"AB\nc\nd"
        );
        assert_eq!(unescape("a & b"), Err(BadReference::BareAmpersand(2)));
        assert_eq!(unescape("a &b"), Err(BadReference::BareAmpersand(2)));
        assert_eq!(unescape("&;"), Err(BadReference::BareAmpersand(0)));
        assert_eq!(
            unescape("x&nbsp;"),
            Err(BadReference::Unknown("nbsp".into(), 1))
        );
        assert!(matches!(unescape("&#0;"), Err(BadReference::Unknown(..))));
        assert!(matches!(
            unescape("&#xD800;"),
            Err(BadReference::Unknown(..))
        ));
        assert!(matches!(unescape("&#x-1;"), Err(BadReference::Unknown(..))));
    }

    /// What a document says, for comparing two readers: element starts (qualified name),
    /// ends, and the character data between markup joined into one run (however a reader
    /// splits it into text, references and CDATA).
    #[derive(Debug, PartialEq)]
    enum Said {
        Start(String),
        End,
        Chars(String),
    }

    fn push_chars(out: &mut Vec<Said>, chars: &str) {
        if let Some(Said::Chars(run)) = out.last_mut() {
            run.push_str(chars);
        } else if !chars.is_empty() {
            out.push(Said::Chars(chars.to_owned()));
        }
    }

    fn ours(doc: &str) -> Vec<Said> {
        let mut t = Tokenizer::new(doc);
        let mut out = Vec::new();
        loop {
            match t.next_token().unwrap() {
                Token::Start { name, .. } => out.push(Said::Start(name.to_owned())),
                Token::End => out.push(Said::End),
                Token::Text(raw) => push_chars(&mut out, &unescape(raw).unwrap()),
                Token::CData(raw) => {
                    push_chars(&mut out, &raw.replace("\r\n", "\n").replace('\r', "\n"))
                }
                Token::Eof => return out,
            }
        }
    }

    fn quick_xml(doc: &str) -> Vec<Said> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(doc);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        let mut out = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) => out.push(Said::Start(e.name().as_ref().to_owned())),
                Event::End(_) => out.push(Said::End),
                Event::Text(t) => push_chars(&mut out, &t.xml10_content()),
                Event::CData(c) => push_chars(&mut out, &c.xml10_content()),
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref().unwrap() {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&r)
                            .unwrap()
                            .to_owned(),
                    };
                    push_chars(&mut out, &c)
                }
                Event::Eof => return out,
                _ => {}
            }
        }
    }

    /// A well-formed document of SyncML-like shape: elements (some prefixed, some empty,
    /// some with namespace declarations), text with references and line ends, CDATA,
    /// comments and processing instructions.
    fn document() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let text = prop::string::string_regex(
            "([a-z0-9 ./:=?%\t\n\r\u{e9}\u{4e2d}>]|&amp;|&lt;|&gt;|&quot;|&apos;|&#65;|&#x1F600;|&#1;){0,8}",
        )
        .unwrap();
        let leaf = prop_oneof![
            text,
            "[a-z<&> \r\n]{0,6}".prop_map(|t| format!("<![CDATA[{t}]]>")),
            "[a-z ]{0,6}".prop_map(|t| format!("<!--{t}-->")),
            "[a-z ]{0,6}".prop_map(|t| format!("<?pi {t}?>")),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            (
                prop_oneof![Just("Get"), Just("Item"), Just("m:Type"), Just("LocURI")],
                prop_oneof![
                    Just(""),
                    Just(" xmlns=\"SYNCML:SYNCML1.2\""),
                    Just(" xmlns=\"syncml:metinf\" "),
                    Just(" xmlns=\"\""),
                    Just(" xmlns=\"it's\""),
                    Just(" xmlns:m='syncml:metinf'"),
                    Just(" a=\"x>y\" b='/'"),
                ],
                prop::collection::vec(inner, 0..4),
                any::<bool>(),
                prop_oneof![Just(""), Just(" "), Just("\r\n\t")],
            )
                .prop_map(|(name, attrs, children, empty, end_space)| {
                    if empty && children.is_empty() {
                        format!("<{name}{attrs}/>")
                    } else {
                        format!("<{name}{attrs}>{}</{name}{end_space}>", children.concat())
                    }
                })
        })
        .prop_map(|body| {
            format!("<?xml version=\"1.0\"?><!DOCTYPE SyncML [<!ELEMENT a (b)>]><SyncML>{body}</SyncML>")
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn the_tokenizer_reads_what_quick_xml_reads(doc in document()) {
            proptest::prop_assert_eq!(ours(&doc), quick_xml(&doc), "{}", doc);
        }

        #[test]
        fn the_short_path_reads_what_the_tokens_read(doc in document()) {
            proptest::prop_assert_eq!(with_short_path(&doc), tokens(&doc), "{}", doc);
        }
    }

    #[test]
    fn attributes_are_read_on_demand() {
        let attrs: Vec<_> = attributes(" xmlns='a' m:x = \"b c\" ").collect();
        assert_eq!(attrs, vec![Ok(("xmlns", "a")), Ok(("m:x", "b c"))]);
        assert!(attributes(" xmlns").next().unwrap().is_err());
        assert!(attributes(" a=b").next().unwrap().is_err());
        assert!(attributes(" a='b").next().unwrap().is_err());
    }

    #[test]
    fn text_ends_at_its_first_lt_and_is_plain_without_reference_cr_or_nul() {
        // Every length either side of the short scan's 64 octets, a stop at every place.
        for len in 0..140 {
            let mut text = vec![b'a'; len];
            text.push(b'<');
            assert_eq!(text_end(&text), Some((len, true)), "{len}");
            assert_eq!(text_end(&text[..len]), None, "{len}");
            for at in 0..len {
                for stop in [b'&', b'\r', 0] {
                    let mut dirty = text.clone();
                    dirty[at] = stop;
                    assert_eq!(text_end(&dirty), Some((len, false)), "{len} {at} {stop}");
                    assert_eq!(text_end(&dirty[..len]), None, "{len} {at} {stop}");
                }
                let mut early = text.clone();
                early[at] = b'<';
                assert_eq!(text_end(&early), Some((at, true)), "{len} {at}");
            }
        }
    }
}

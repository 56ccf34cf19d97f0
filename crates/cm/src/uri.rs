//! Management-tree URIs (OMA-TS-DM_TND-V1_2 §6): parsing, normalisation, limits, and the
//! `?prop=` / `?list=` queries of TND §8.3–8.4.
//!
//! Rules: the root is `.`; `./A/B` and `A/B` name the same node; no leading `/`, no trailing
//! `/`, no empty segment, `.` only as the first segment, no `..`, no `*` as a name (it is the
//! ACL wildcard). Segments are percent-decoded (`%2F` may not produce `/`) and must be UTF-8;
//! the canonical text form re-escapes `%`, `/`, `?` and `&`. Exceeding MaxDepth (segments),
//! MaxTotLen (characters of the canonical URI) or MaxSegLen (characters of one segment) is
//! status 414; 0 means unlimited for each.

use std::borrow::Cow;
use std::fmt;

/// The URI limits a device reports in `./DevDetail/URI/*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriLimits {
    /// Most segments below the root (0: unlimited).
    pub max_depth: u16,
    /// Longest URI in characters (0: unlimited).
    pub max_tot_len: u16,
    /// Longest segment in characters (0: unlimited).
    pub max_seg_len: u16,
}

impl Default for UriLimits {
    /// 16 segments, 1024 characters, 127 characters per segment.
    fn default() -> Self {
        UriLimits {
            max_depth: 16,
            max_tot_len: 1024,
            max_seg_len: 127,
        }
    }
}

/// Why a URI was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriError {
    /// Syntax error (status 400 from the session engine, or 404 where a node is addressed).
    Malformed(String),
    /// A MaxDepth/MaxTotLen/MaxSegLen limit is exceeded (status 414).
    TooLong(String),
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriError::Malformed(why) => write!(f, "malformed URI: {why}"),
            UriError::TooLong(why) => write!(f, "URI too long: {why}"),
        }
    }
}

impl std::error::Error for UriError {}

/// A normalised node address: the segments below the root, kept as the canonical text
/// alone (`.`, `./A/B`; names percent-escaped as [`encode_segment`] does). Parsing a target
/// already in canonical form (`./A/B`, what servers send) borrows it; other forms are
/// rewritten once. Two URIs are equal when their texts are; they order by their decoded
/// segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeUri<'a> {
    /// The canonical text.
    text: Cow<'a, str>,
}

impl Default for NodeUri<'_> {
    fn default() -> Self {
        NodeUri {
            text: Cow::Borrowed("."),
        }
    }
}

impl PartialOrd for NodeUri<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NodeUri<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.segments().cmp(other.segments())
    }
}

fn canonical(segments: &[String]) -> String {
    let mut out = String::from(".");
    for s in segments {
        out.push('/');
        percent_encode_into(&mut out, s);
    }
    out
}

/// The query part of a URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `?prop=Name`: a run-time property (name percent-decoded, e.g. `msft:AccessRole`).
    Prop(String),
    /// `?list=Struct`: the subtree's structure.
    ListStruct,
    /// `?list=StructData`: the subtree's structure and leaf values.
    ListStructData,
    /// `?list=` anything else (TNDS forms): not supported here (status 406).
    ListOther(String),
}

fn percent_decode(segment: &str) -> Result<String, UriError> {
    if !segment.contains('%') {
        return Ok(segment.to_owned());
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    UriError::Malformed(format!(
                        "bad escape in {}",
                        omadm_syncml::printable(segment).limit(64)
                    ))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        UriError::Malformed(format!(
            "{} is not UTF-8",
            omadm_syncml::printable(segment).limit(64)
        ))
    })
}

fn percent_encode_into(out: &mut String, name: &str) {
    for c in name.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            '?' => out.push_str("%3F"),
            '&' => out.push_str("%26"),
            c => out.push(c),
        }
    }
}

impl NodeUri<'static> {
    /// The root, `.`.
    pub fn root() -> Self {
        NodeUri::default()
    }

    /// Builds a URI from already-decoded segment names, checking each.
    pub fn from_segments<I, S>(segments: I) -> Result<NodeUri<'static>, UriError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut uri = NodeUri::root();
        for s in segments {
            uri = uri.child(&s.into())?;
        }
        Ok(uri)
    }
}

impl<'a> NodeUri<'a> {
    /// Parses a URI without query (a `?` is refused: use [`parse_target`]).
    pub fn parse(text: &'a str, limits: &UriLimits) -> Result<NodeUri<'a>, UriError> {
        let (uri, query) = parse_target(text, limits)?;
        match query {
            None => Ok(uri),
            Some(_) => Err(UriError::Malformed("unexpected query".into())),
        }
    }

    /// The canonical text, lent as long as this URI's (copied only when this URI owns it).
    pub fn to_text(&self) -> Cow<'a, str> {
        self.text.clone()
    }

    /// This URI, made to own its text (no copy when it does already).
    pub fn into_owned(self) -> NodeUri<'static> {
        NodeUri {
            text: Cow::Owned(self.text.into_owned()),
        }
    }

    /// The canonical text form (`.`, `./A/B`; `%`, `/`, `?`, `&` in names escaped).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The segments below the root, as they appear in the canonical text (escaped).
    fn raw_segments(&self) -> std::str::Split<'_, char> {
        let rest = if self.is_root() { "" } else { &self.text[2..] };
        let mut split = rest.split('/');
        if rest.is_empty() {
            // `"".split('/')` yields one empty piece: the root has none.
            split.next();
        }
        split
    }

    /// The segments below the root, decoded.
    pub fn segments(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
        self.raw_segments().map(decode_segment)
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.text == "."
    }

    /// Number of segments below the root.
    pub fn depth(&self) -> usize {
        if self.is_root() {
            0
        } else {
            self.text.bytes().filter(|&b| b == b'/').count()
        }
    }

    /// The last segment's name, decoded (`.` for the root).
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        match self.raw_segments().next_back() {
            Some(raw) => decode_segment(raw),
            None => ".".into(),
        }
    }

    /// The parent (`None` for the root), borrowing this URI's text.
    pub fn parent(&self) -> Option<NodeUri<'_>> {
        parent_str(&self.text).map(|p| NodeUri {
            text: Cow::Borrowed(p),
        })
    }

    /// The child named `name` (refused when `name` is not a valid node name).
    pub fn child(&self, name: &str) -> Result<NodeUri<'static>, UriError> {
        check_name(name)?;
        let mut text = String::with_capacity(self.text.len() + name.len() + 1);
        text.push_str(&self.text);
        text.push('/');
        percent_encode_into(&mut text, name);
        Ok(NodeUri {
            text: Cow::Owned(text),
        })
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &NodeUri<'_>) -> bool {
        other.is_root()
            || self.text == other.text
            || (self.text.starts_with(&*other.text)
                && self.text.as_bytes().get(other.text.len()) == Some(&b'/'))
    }

    /// `self` with the prefix `from` replaced by `to` (for moves and copies of subtrees).
    pub fn rebase(&self, from: &NodeUri<'_>, to: &NodeUri<'_>) -> Option<NodeUri<'static>> {
        if !self.starts_with(from) {
            return None;
        }
        // What follows `from`: empty, or `/...` (the root's text is `.`, one octet).
        let rest = if from.is_root() {
            &self.text[1..]
        } else {
            &self.text[from.text.len()..]
        };
        let mut text = String::with_capacity(to.text.len() + rest.len());
        text.push_str(&to.text);
        text.push_str(rest);
        Some(NodeUri {
            text: Cow::Owned(text),
        })
    }

    /// The ancestors from the root down to the parent, borrowing this URI's text.
    pub fn ancestors(&self) -> impl Iterator<Item = NodeUri<'_>> + '_ {
        let depth = self.depth();
        self.text
            .match_indices('/')
            .take(depth)
            .map(|(i, _)| NodeUri {
                text: Cow::Borrowed(&self.text[..i]),
            })
    }

    /// Checks the URI against the limits.
    pub fn check_limits(&self, limits: &UriLimits) -> Result<(), UriError> {
        if !self.text.contains('%') && self.within_limits_plain(limits) {
            return Ok(());
        }
        self.check_limits_decoded(limits)
    }

    /// [`NodeUri::check_limits`] on the decoded segments, naming the limit exceeded.
    fn check_limits_decoded(&self, limits: &UriLimits) -> Result<(), UriError> {
        if limits.max_depth != 0 && self.depth() > usize::from(limits.max_depth) {
            return Err(UriError::TooLong(format!(
                "{} segments > MaxDepth {}",
                self.depth(),
                limits.max_depth
            )));
        }
        if limits.max_seg_len != 0 {
            if let Some(s) = self
                .segments()
                .find(|s| s.chars().count() > usize::from(limits.max_seg_len))
            {
                return Err(UriError::TooLong(format!(
                    "segment of {} characters > MaxSegLen {}",
                    s.chars().count(),
                    limits.max_seg_len
                )));
            }
        }
        let total = self.text.chars().count();
        if limits.max_tot_len != 0 && total > usize::from(limits.max_tot_len) {
            return Err(UriError::TooLong(format!(
                "{total} characters > MaxTotLen {}",
                limits.max_tot_len
            )));
        }
        Ok(())
    }
}

impl NodeUri<'_> {
    /// Whether text with no percent-escapes (each segment is its own name) is within the
    /// limits, in one pass over its octets; `false` sends the caller to the full check, which
    /// names the limit exceeded.
    fn within_limits_plain(&self, limits: &UriLimits) -> bool {
        let (mut depth, mut total, mut segment) = (0usize, 0usize, 0usize);
        let mut longest = 0usize;
        for &b in self.text.as_bytes() {
            if b == b'/' {
                depth += 1;
                longest = longest.max(segment);
                segment = 0;
            } else if b & 0xC0 != 0x80 {
                // The first octet of a character.
                segment += 1;
            }
            if b & 0xC0 != 0x80 {
                total += 1;
            }
        }
        longest = longest.max(segment);
        let within = |value: usize, limit: u16| limit == 0 || value <= usize::from(limit);
        within(depth, limits.max_depth)
            && (self.is_root() || within(longest, limits.max_seg_len))
            && within(total, limits.max_tot_len)
    }
}

/// [`PRINTABLE_CLASS`]: an octet a name may hold as it is.
const PLAIN: u8 = 0;
/// [`PRINTABLE_CLASS`]: the separator.
const SLASH: u8 = 1;
/// [`PRINTABLE_CLASS`]: the start of the query, which ends the path.
const QUERY: u8 = 2;
/// [`PRINTABLE_CLASS`]: anything else (controls, non-ASCII, `%` and `&` escapes): the target
/// is left to the general rules.
const OTHER: u8 = 3;

/// Each octet's class for the one-pass check: one load per octet.
static PRINTABLE_CLASS: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut b = 0x20;
    while b <= 0x7E {
        table[b] = PLAIN;
        b += 1;
    }
    table[b'/' as usize] = SLASH;
    table[b'?' as usize] = QUERY;
    table[b'%' as usize] = OTHER;
    table[b'&' as usize] = OTHER;
    table
};

/// The common case of [`parse_target`] in one pass over the octets: a path of printable
/// ASCII without escapes (`%`, `&`), every segment a valid name, within the limits, and the
/// text of its query if it has one (from the first `?` on). `None` sends the caller to the
/// general rules, which also name what is wrong.
fn parse_printable<'a>(
    text: &'a str,
    limits: &UriLimits,
) -> Option<(NodeUri<'a>, Option<&'a str>)> {
    let bytes = text.as_bytes();
    // Where the names start: after `./`; after the root `.` alone or before its query
    // (no names); else at once (a relative path).
    let from = match bytes {
        [b'.', b'/', ..] => 2,
        [b'.'] | [b'.', b'?', ..] => 1,
        _ => 0,
    };
    // Every segment a name: not empty, not `.`, `..` or `*` (only short ones are looked at).
    let name = |segment: &[u8]| !matches!(segment, b"" | b"." | b".." | b"*");
    let (mut depth, mut longest, mut start) = (0usize, 0usize, from);
    let mut end = bytes.len();
    for (at, &b) in bytes.get(from..)?.iter().enumerate() {
        let i = from + at;
        match PRINTABLE_CLASS[usize::from(b)] {
            PLAIN => {}
            SLASH => {
                if !name(bytes.get(start..i)?) {
                    return None;
                }
                depth += 1;
                longest = longest.max(i - start);
                start = i + 1;
            }
            QUERY => {
                end = i;
                break;
            }
            _ => return None,
        }
    }
    let rest_len = end - from;
    if rest_len == 0 {
        // Only the root has no names (`./` is a trailing `/`, an empty text no URI).
        if from != 1 {
            return None;
        }
    } else {
        if !name(bytes.get(start..end)?) {
            return None;
        }
        depth += 1;
        longest = longest.max(end - start);
    }
    let total = rest_len + if rest_len == 0 { 1 } else { 2 };
    let within = |value: usize, limit: u16| limit == 0 || value <= usize::from(limit);
    if !(within(depth, limits.max_depth)
        && within(longest, limits.max_seg_len)
        && within(total, limits.max_tot_len))
    {
        return None;
    }
    // (Every octet before `end` is ASCII, and `end` holds `?` or is the end.)
    let path = text.get(..end)?;
    let text_form = if from != 0 {
        // `.` or `./rest`: the target is its own canonical text.
        Cow::Borrowed(path)
    } else {
        let mut canonical = String::with_capacity(rest_len + 2);
        canonical.push_str("./");
        canonical.push_str(path);
        Cow::Owned(canonical)
    };
    let query = if end < bytes.len() {
        Some(text.get(end + 1..)?)
    } else {
        None
    };
    Some((NodeUri { text: text_form }, query))
}

/// The pieces of `text` between `/`s, found on octets.
fn split_at_slashes(text: &str) -> impl Iterator<Item = &str> {
    let mut from = Some(0);
    std::iter::from_fn(move || {
        let start = from?;
        let end = text.as_bytes()[start..]
            .iter()
            .position(|&b| b == b'/')
            .map(|k| start + k);
        from = end.map(|e| e + 1);
        Some(&text[start..end.unwrap_or(text.len())])
    })
}

/// Checks one decoded node name.
pub fn check_name(name: &str) -> Result<(), UriError> {
    if name.is_empty() {
        return Err(UriError::Malformed("empty segment".into()));
    }
    if name == "." || name == ".." {
        return Err(UriError::Malformed(format!("segment \"{name}\"")));
    }
    if name == "*" {
        return Err(UriError::Malformed("`*` is not a node name".into()));
    }
    if name.as_bytes().contains(&b'/') {
        return Err(UriError::Malformed("`/` inside a node name".into()));
    }
    // Printable ASCII (nearly every name) needs no further look.
    if name.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Ok(());
    }
    // A name must travel in XML 1.0 (LocURI, TargetRef) as text: no control characters
    // (C0, DEL, C1) and no U+FFFE/U+FFFF, which XML 1.0 cannot carry at all.
    if let Some(c) = name
        .chars()
        .find(|&c| c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
    {
        return Err(UriError::Malformed(format!(
            "character U+{:04X} in node name {}",
            c as u32,
            omadm_syncml::printable(name).limit(64)
        )));
    }
    Ok(())
}

/// Parses a command target: a URI and an optional `?prop=` / `?list=` query.
pub fn parse_target<'a>(
    text: &'a str,
    limits: &UriLimits,
) -> Result<(NodeUri<'a>, Option<Query>), UriError> {
    // The common target in one pass (this runs for every command), else the general rules.
    let (uri, query) = match parse_printable(text, limits) {
        Some(parsed) => parsed,
        None => parse_general(text, limits)?,
    };
    let query = match query {
        None => None,
        Some(q) => Some(parse_query(q)?),
    };
    Ok((uri, query))
}

/// The target split at its first `?`, its path checked by the general rules; the query's
/// text is returned as it is.
fn parse_general<'a>(
    text: &'a str,
    limits: &UriLimits,
) -> Result<(NodeUri<'a>, Option<&'a str>), UriError> {
    // Split on octets: the separators are ASCII.
    let (path, query) = match text.bytes().position(|b| b == b'?') {
        Some(q) => (&text[..q], Some(&text[q + 1..])),
        None => (text, None),
    };
    if path.is_empty() {
        return Err(UriError::Malformed("empty URI".into()));
    }
    if path.starts_with('/') {
        return Err(UriError::Malformed("leading `/`".into()));
    }
    if path.ends_with('/') {
        return Err(UriError::Malformed("trailing `/`".into()));
    }
    let rest = if path == "." {
        ""
    } else if let Some(rest) = path.strip_prefix("./") {
        rest
    } else {
        path
    };
    Ok((parse_path(path, rest, limits)?, query))
}

/// The path `path` (whose text below the root is `rest`) by the general rules: escapes
/// decoded, every name checked, the limits checked naming the one exceeded.
fn parse_path<'a>(path: &'a str, rest: &str, limits: &UriLimits) -> Result<NodeUri<'a>, UriError> {
    // Without `%` and `&`, decoding changes nothing and the canonical form is `./` + rest.
    let plain = !rest.bytes().any(|b| b == b'%' || b == b'&');
    // Decoded names are kept only when the canonical text must be built from them.
    let mut segments = Vec::new();
    if !rest.is_empty() {
        for raw in split_at_slashes(rest) {
            if raw == "." {
                return Err(UriError::Malformed(
                    "`.` is allowed only as the first segment".into(),
                ));
            }
            if plain {
                check_name(raw)?;
            } else {
                let name = percent_decode(raw)?;
                check_name(&name)?;
                segments.push(name);
            }
        }
    }
    let text = if plain && (rest.is_empty() || rest.len() + 2 == path.len()) {
        // `.` or `./rest`: the target is its own canonical text.
        Cow::Borrowed(path)
    } else if plain {
        let mut text = String::with_capacity(rest.len() + 2);
        text.push_str("./");
        text.push_str(rest);
        Cow::Owned(text)
    } else {
        Cow::Owned(canonical(&segments))
    };
    let uri = NodeUri { text };
    uri.check_limits(limits)?;
    Ok(uri)
}

fn parse_query(q: &str) -> Result<Query, UriError> {
    if let Some(name) = q.strip_prefix("prop=") {
        let name = percent_decode(name)?;
        if name.is_empty() {
            return Err(UriError::Malformed("empty property name".into()));
        }
        return Ok(Query::Prop(name));
    }
    if let Some(list) = q.strip_prefix("list=") {
        return Ok(match list {
            "Struct" => Query::ListStruct,
            "StructData" => Query::ListStructData,
            other => Query::ListOther(other.to_owned()),
        });
    }
    Err(UriError::Malformed(format!("unknown query {q:?}")))
}

impl fmt::Display for NodeUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Escapes one decoded name for the canonical text form.
pub fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    percent_encode_into(&mut out, name);
    out
}

/// One segment of a canonical text, decoded (borrowed when it has no escape).
fn decode_segment(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('%') {
        decode_canonical_segment(raw).into()
    } else {
        raw.into()
    }
}

/// Decodes one segment of a canonical path (produced by [`encode_segment`]).
pub fn decode_canonical_segment(segment: &str) -> String {
    percent_decode(segment).unwrap_or_else(|_| segment.to_owned())
}

/// The canonical text of the parent of the canonical path `path` (`None` for the root).
pub fn parent_str(path: &str) -> Option<&str> {
    if path == "." {
        return None;
    }
    path.bytes().rposition(|b| b == b'/').map(|i| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_in_canonical_form_is_borrowed_and_other_forms_are_rewritten() {
        let limits = UriLimits::default();
        for (text, canonical, borrowed) in [
            ("./A/B", "./A/B", true),
            (".", ".", true),
            ("./A/B?list=Struct", "./A/B", true),
            ("A/B", "./A/B", false),
            ("./A%41/B", "./AA/B", false),
            ("./A%25B", "./A%25B", false),
        ] {
            let (uri, _) = parse_target(text, &limits).unwrap();
            assert_eq!(uri.as_str(), canonical, "{text}");
            assert_eq!(matches!(uri.text, Cow::Borrowed(_)), borrowed, "{text}");
            assert_eq!(uri.clone().into_owned(), uri);
        }
        let deep = NodeUri::parse("./A/B/C", &limits).unwrap();
        assert_eq!(
            deep.ancestors()
                .map(|a| a.as_str().to_owned())
                .collect::<Vec<_>>(),
            [".", "./A", "./A/B"]
        );
        assert_eq!(deep.parent().unwrap().as_str(), "./A/B");
    }

    #[test]
    fn the_one_pass_parse_agrees_with_the_general_rules() {
        // Every path of up to 6 characters over an alphabet of the corner cases, under tight
        // and default limits: where the one-pass parse answers, the general rules agree.
        let alphabet = [
            'a', '.', '*', '/', '%', '&', ' ', '\u{7f}', '\u{e9}', '4', '1', '?',
        ];
        let tight = UriLimits {
            max_depth: 2,
            max_tot_len: 6,
            max_seg_len: 2,
        };
        let mut answered = 0;
        let mut paths = vec![String::new()];
        for _ in 0..5 {
            let mut longer = Vec::new();
            for p in &paths {
                for c in alphabet {
                    longer.push(format!("{p}{c}"));
                }
            }
            for text in longer.iter().flat_map(|p| [p.clone(), format!("./{p}")]) {
                for limits in [tight, UriLimits::default()] {
                    if let Some(fast) = parse_printable(&text, &limits) {
                        answered += 1;
                        assert_eq!(Ok(fast), parse_general(&text, &limits), "{text:?}");
                    }
                }
            }
            paths = longer;
        }
        assert!(answered > 10_000, "{answered}");
    }

    #[test]
    fn splitting_at_slashes_is_str_split() {
        for text in ["", "a", "a/b", "/a//b/", "\u{e9}/\u{4e2d}"] {
            assert_eq!(
                split_at_slashes(text).collect::<Vec<_>>(),
                text.split('/').collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn the_one_pass_limit_check_agrees_with_the_decoded_one() {
        let uris = [
            ".",
            "./a",
            "./ab/c",
            "./a/bcd/e",
            "./\u{e9}\u{e9}/x",
            "./\u{4e2d}/\u{1F600}\u{1F600}\u{1F600}",
        ];
        for text in uris {
            let uri = p(text).unwrap();
            for max_depth in 0..4 {
                for max_seg_len in 0..4 {
                    for max_tot_len in [0, 3, 4, 6, 8, 9, 12] {
                        let limits = UriLimits {
                            max_depth,
                            max_seg_len,
                            max_tot_len,
                        };
                        assert_eq!(
                            uri.within_limits_plain(&limits),
                            uri.check_limits_decoded(&limits).is_ok(),
                            "{text} {limits:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn operations_on_the_canonical_text() {
        let a = p("./a%25/b").unwrap();
        assert_eq!(a.depth(), 2);
        assert_eq!(a.name(), "b");
        assert_eq!(a.parent().unwrap().name(), "a%");
        assert_eq!(a.parent().unwrap().parent().unwrap(), NodeUri::root());
        assert_eq!(NodeUri::root().parent(), None);
        assert_eq!(NodeUri::root().depth(), 0);
        assert_eq!(NodeUri::root().segments().count(), 0);
        let anc: Vec<String> = a.ancestors().map(|u| u.to_string()).collect();
        assert_eq!(anc, [".", "./a%25"]);
        assert!(a.starts_with(&p("./a%25").unwrap()));
        assert!(a.starts_with(&NodeUri::root()));
        assert!(!p("./ab").unwrap().starts_with(&p("./a").unwrap()));
        let moved = a
            .rebase(&p("./a%25").unwrap(), &p("./x/y").unwrap())
            .unwrap();
        assert_eq!(moved.as_str(), "./x/y/b");
        let from_root = a.rebase(&NodeUri::root(), &p("./r").unwrap()).unwrap();
        assert_eq!(from_root.as_str(), "./r/a%25/b");
        assert_eq!(a.rebase(&a, &NodeUri::root()).unwrap(), NodeUri::root());
        // Ordered by decoded segments, not by text: `a` < `a-b` although `/` > `-`.
        assert!(p("./a/b").unwrap() < p("./a-b").unwrap());
        assert_eq!(
            a.child("c/d").unwrap_err(),
            UriError::Malformed("`/` inside a node name".into())
        );
        assert_eq!(a.child("c?").unwrap().as_str(), "./a%25/b/c%3F");
    }

    #[test]
    fn the_plain_fast_path_gives_the_canonical_form() {
        let limits = UriLimits::default();
        for text in [
            ".",
            "./a",
            "a",
            "a/b c/d-e_f.g",
            "./Vendor/MSFT/x",
            "./a%3Fb/c",
            "a&b/c",
            "./a%25/b",
            "./caf%C3%A9",
            "./café/x",
        ] {
            let (uri, _) = parse_target(text, &limits).unwrap();
            let segments: Vec<String> = uri.segments().map(|s| s.into_owned()).collect();
            assert_eq!(uri.text, canonical(&segments), "{text}");
        }
        assert!(parse_target("./a\u{1}b", &limits).is_err());
        assert!(parse_target("./a%2Fb", &limits).is_err());
        assert!(parse_target("./a\u{7f}", &limits).is_err());
    }

    fn p(s: &str) -> Result<NodeUri<'_>, UriError> {
        NodeUri::parse(s, &UriLimits::default())
    }

    #[test]
    fn root_is_dot_and_dot_slash_prefix_is_optional() {
        assert!(p(".").unwrap().is_root());
        assert_eq!(p("./A/B").unwrap(), p("A/B").unwrap());
        assert_eq!(p("./A/B").unwrap().to_string(), "./A/B");
    }

    #[test]
    fn leading_and_trailing_slash_are_refused() {
        assert!(matches!(p("/A"), Err(UriError::Malformed(_))));
        assert!(matches!(p("./A/"), Err(UriError::Malformed(_))));
        assert!(matches!(p("./"), Err(UriError::Malformed(_))));
    }

    #[test]
    fn dot_only_as_first_segment_and_no_dot_dot() {
        assert!(p("./A/./B").is_err());
        assert!(p("./A/../B").is_err());
        assert!(p("../A").is_err());
    }

    #[test]
    fn empty_and_star_names_are_refused() {
        assert!(p("./A//B").is_err());
        assert!(p("./A/*").is_err());
        assert!(p("").is_err());
    }

    #[test]
    fn percent_escapes_decode_and_reencode() {
        let u = p("./A/b%20c/%C3%A9").unwrap();
        assert_eq!(u.segments().collect::<Vec<_>>(), ["A", "b c", "é"]);
        assert_eq!(
            p("./A/x%2Fy").unwrap_err(),
            UriError::Malformed("`/` inside a node name".into())
        );
        assert!(p("./A/%zz").is_err());
        assert!(p("./A/%FF").is_err(), "not UTF-8");
        assert_eq!(
            NodeUri::from_segments(["a%b", "c?d"]).unwrap().to_string(),
            "./a%25b/c%3Fd"
        );
    }

    #[test]
    fn limits_give_too_long() {
        let limits = UriLimits {
            max_depth: 2,
            max_tot_len: 12,
            max_seg_len: 3,
        };
        assert!(NodeUri::parse("./a/b", &limits).is_ok());
        assert!(matches!(
            NodeUri::parse("./a/b/c", &limits),
            Err(UriError::TooLong(_))
        ));
        assert!(matches!(
            NodeUri::parse("./abcd", &limits),
            Err(UriError::TooLong(_))
        ));
        assert!(matches!(
            NodeUri::parse(
                "./abc/abc",
                &UriLimits {
                    max_tot_len: 8,
                    ..limits
                }
            ),
            Err(UriError::TooLong(_))
        ));
        let unlimited = UriLimits {
            max_depth: 0,
            max_tot_len: 0,
            max_seg_len: 0,
        };
        assert!(NodeUri::parse(&format!("./{}", "x/".repeat(500) + "y"), &unlimited).is_ok());
    }

    #[test]
    fn queries_prop_and_list() {
        let l = UriLimits::default();
        assert_eq!(
            parse_target("./A?prop=ACL", &l).unwrap().1,
            Some(Query::Prop("ACL".into()))
        );
        assert_eq!(
            parse_target("./A?prop=msft%3AAccessRole", &l).unwrap().1,
            Some(Query::Prop("msft:AccessRole".into()))
        );
        assert_eq!(
            parse_target("./A?list=Struct", &l).unwrap().1,
            Some(Query::ListStruct)
        );
        assert_eq!(
            parse_target("./A?list=StructData", &l).unwrap().1,
            Some(Query::ListStructData)
        );
        assert_eq!(
            parse_target("./A?list=TNDS+ACL", &l).unwrap().1,
            Some(Query::ListOther("TNDS+ACL".into()))
        );
        assert!(parse_target("./A?foo=1", &l).is_err());
        assert!(NodeUri::parse("./A?prop=ACL", &l).is_err());
    }

    #[test]
    fn parent_child_and_rebase() {
        let u = p("./A/B/C").unwrap();
        assert_eq!(u.parent().unwrap(), p("./A/B").unwrap());
        assert_eq!(u.name(), "C");
        assert!(u.starts_with(&p("./A").unwrap()));
        assert!(!u.starts_with(&p("./B").unwrap()));
        assert_eq!(
            u.rebase(&p("./A").unwrap(), &p("./X/Y").unwrap()).unwrap(),
            p("./X/Y/B/C").unwrap()
        );
        assert_eq!(
            u.ancestors().map(|a| a.to_string()).collect::<Vec<_>>(),
            [".", "./A", "./A/B"]
        );
    }
}

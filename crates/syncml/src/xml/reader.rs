//! XML → element stream, on the tokenizer of [`super::tokenizer`] (input checked to be UTF-8
//! once, names and text as slices of it), with namespaces tracked here.
//!
//! Namespaces: an element may be in a SyncML namespace (`SYNCML:SYNCML1.0`–`1.2`, compared
//! case-insensitively), in `syncml:metinf`, or in no namespace at all (many peers omit the
//! `xmlns` on Meta children); it is then identified by its local name, which is unique across
//! both vocabularies. Any other namespace makes the element unknown. Entity references are
//! limited to the five predefined ones and character references, so no input can expand.

use std::borrow::Cow;

use super::tokenizer::{attributes, unescape, BadReference, Plain, Token, Tokenizer};
use crate::error::{DecodeError, ErrorKind};
use crate::events::{is_blank, EventSource, RawData, Start};
use crate::limits::{Budget, Limits};
use crate::tag::{same_name, Tag, METINF_NS};

/// A namespace an element can be in, as far as SyncML cares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ns {
    /// `SYNCML:SYNCML1.0`–`1.2` (any case) or `syncml:metinf`: the two vocabularies, whose
    /// element names do not overlap.
    SyncMl,
    /// No namespace (`xmlns=""`, or none declared).
    None,
    /// Anything else (kept for the error).
    Other(Box<str>),
}

impl Ns {
    fn of(uri: &str) -> Ns {
        // As nearly every peer writes them, compared as words first.
        let bytes = uri.as_bytes();
        if same_name(bytes, METINF_NS.as_bytes())
            || (bytes.len() == 16 && same_name(&bytes[..15], b"SYNCML:SYNCML1."))
        {
            return Ns::SyncMl;
        }
        let syncml = uri.len() == 16
            && uri.is_char_boundary(15)
            && uri[..15].eq_ignore_ascii_case("SYNCML:SYNCML1.");
        if syncml || uri.eq_ignore_ascii_case(METINF_NS) {
            Ns::SyncMl
        } else if uri.is_empty() {
            Ns::None
        } else {
            Ns::Other(uri.into())
        }
    }
}

/// A start tag's attributes, as [`XmlSource::enter`] is given them.
#[derive(Clone, Copy)]
enum Attrs<'t> {
    /// Read by the short path: none, or a default namespace declaration alone (its URI).
    Plain(Option<&'t str>),
    /// The attribute text of a token (declarations among it are read by `declare`).
    Text(&'t str),
}

/// Most namespace declarations in scope at once. SyncML uses two or three; a bound keeps every
/// name lookup (a scan of the declarations in scope) cheap whatever the input.
const MAX_BINDINGS: usize = 32;

/// A namespace declaration in scope: made on the element open at `depth`; `prefix` `None`
/// for the default namespace.
#[derive(Debug)]
struct Binding {
    depth: usize,
    prefix: Option<Box<str>>,
    ns: Ns,
}

/// How an element's name resolved.
enum Resolved<'n, 'p> {
    /// In this namespace.
    In(&'n Ns),
    /// No namespace applies (unprefixed, no default declared).
    Unbound,
    /// A prefix no declaration binds.
    UndeclaredPrefix(&'p str),
}

/// Octets a typical DM command takes in XML (an Add or Replace of a short value with its
/// Format and Type is 200 to 250, a Get or Delete of a short URI 90 to 100): what
/// [`EventSource::likely_commands`] divides by.
const TYPICAL_COMMAND_OCTETS: usize = 160;

/// Reads one XML SyncML document.
pub(crate) struct XmlSource<'a> {
    tokens: Tokenizer<'a>,
    /// The namespace declarations in scope, innermost last.
    bindings: Vec<Binding>,
    input: &'a str,
    limits: Limits,
    depth: usize,
    elements: usize,
    /// Offset of the event being read (the reader's position before it).
    event_start: usize,
    budget: Budget,
}

impl<'a> XmlSource<'a> {
    pub(crate) fn new(input: &'a [u8], limits: Limits) -> Result<Self, DecodeError> {
        if input.len() > limits.max_input_bytes {
            return Err(DecodeError::new(
                ErrorKind::InputTooLarge {
                    len: input.len(),
                    limit: limits.max_input_bytes,
                },
                0,
            ));
        }
        let input = std::str::from_utf8(input)
            .map_err(|e| DecodeError::new(ErrorKind::InvalidUtf8, e.valid_up_to()))?;
        Ok(XmlSource {
            tokens: Tokenizer::new(input),
            bindings: Vec::new(),
            input,
            limits,
            depth: 0,
            elements: 0,
            event_start: 0,
            budget: Budget::new(&limits, input.len()),
        })
    }

    fn position(&self) -> usize {
        self.tokens.position()
    }

    /// The element holding text (`element`, as written), for messages: `<Data>`, or `the
    /// document` outside any.
    fn element_label(element: Option<&str>) -> String {
        match element {
            Some(name) => format!("<{}>", crate::printable(name).limit(64)),
            None => "the document".to_owned(),
        }
    }

    /// Reads the next token, recording where it started.
    fn next_event(&mut self) -> Result<(Option<Start>, Token<'a>), DecodeError> {
        self.event_start = self.position();
        let token = self.tokens.next_token()?;
        let start = match &token {
            Token::Start { name, attrs } => Some(self.enter(name, Attrs::Text(attrs))?),
            Token::End => {
                self.close();
                None
            }
            _ => None,
        };
        Ok((start, token))
    }

    /// When the element's content is text without markup (possibly none) followed by its
    /// end tag: the text, read with the end in one step (what the tokens would give);
    /// otherwise nothing is read.
    // In line in both callers: it is most leaves' whole reading.
    #[inline(always)]
    fn plain_text(&mut self) -> Option<Result<Cow<'a, str>, DecodeError>> {
        let at = self.position();
        let (raw, end_at, plain) = self.tokens.leaf_text()?;
        let mut text = Cow::Borrowed("");
        if plain {
            text = Cow::Borrowed(raw);
        } else {
            self.event_start = at;
            // The element's end tag, `</Name>` exactly, was read last: its name is there.
            let element = self.input.get(end_at + 2..self.position() - 1);
            let piece = Chars {
                raw,
                at,
                cdata: false,
                element,
            };
            if let Err(e) = self.push_chars(&mut text, piece) {
                return Some(Err(e));
            }
        }
        self.event_start = end_at;
        self.close();
        Some(self.charged(text))
    }

    /// Enters the element just started, named `name` with the attributes `attrs`: limits
    /// checked, namespaces declared, the name classified.
    // In line in both callers: every element start goes through it.
    #[inline(always)]
    fn enter(&mut self, name: &str, attrs: Attrs<'_>) -> Result<Start, DecodeError> {
        self.open()?;
        // Only a name from the tokens may have a prefix (the short path's have no `:`).
        let prefixed = match attrs {
            Attrs::Plain(None) => false,
            Attrs::Plain(Some(uri)) => {
                self.bind(None, uri)?;
                false
            }
            Attrs::Text(text) => {
                self.declare(text)?;
                true
            }
        };
        let colon = prefixed.then(|| name.bytes().position(|b| b == b':'));
        let start = match colon.flatten() {
            Some(colon) => self.classify(Some(&name[..colon]), &name[colon + 1..]),
            None => self.classify(None, name),
        };
        Ok(start)
    }

    /// Leaves the element just ended.
    fn close(&mut self) {
        self.depth -= 1;
        while self.bindings.last().is_some_and(|b| b.depth > self.depth) {
            self.bindings.pop();
        }
    }

    /// Records the namespace declarations of the element just opened (at `self.depth`).
    fn declare(&mut self, attrs: &str) -> Result<(), DecodeError> {
        if attrs.is_empty() {
            return Ok(());
        }
        // The common shape, a default namespace alone (`<Type xmlns="syncml:metinf">`),
        // without reading the attributes one by one.
        let default_alone = attrs
            .strip_prefix(" xmlns=\"")
            .and_then(|rest| rest.strip_suffix('"'))
            .filter(|uri| !uri.contains('"'));
        if let Some(uri) = default_alone {
            return self.bind(None, uri);
        }
        // Most tags have no attributes; a short scan finds a declaration in the others.
        if !attrs.as_bytes().windows(5).any(|w| w == b"xmlns") {
            return Ok(());
        }
        for attr in attributes(attrs) {
            let (key, value) =
                attr.map_err(|err| DecodeError::new(ErrorKind::Xml(err), self.event_start))?;
            let prefix: Option<Box<str>> = match key.strip_prefix("xmlns") {
                Some("") => None,
                Some(p) if p.starts_with(':') && p.len() > 1 => Some(p[1..].into()),
                _ => continue,
            };
            self.bind(prefix, value)?;
        }
        Ok(())
    }

    /// Records that `prefix` (`None`: the default namespace) is bound to `uri` (as written)
    /// on the element just opened.
    fn bind(&mut self, prefix: Option<Box<str>>, uri: &str) -> Result<(), DecodeError> {
        if self.bindings.len() == MAX_BINDINGS {
            return Err(DecodeError::new(
                ErrorKind::Xml(format!(
                    "more than {MAX_BINDINGS} namespace declarations in scope"
                )),
                self.event_start,
            ));
        }
        self.budget.charge(
            size_of::<Binding>() + prefix.as_ref().map_or(0, |p| p.len()) + uri.len(),
            self.event_start,
        )?;
        self.bindings.push(Binding {
            depth: self.depth,
            prefix,
            ns: Ns::of(uri),
        });
        Ok(())
    }

    /// Which namespace `prefix` (`None`: the default one) is bound to here.
    fn resolve<'p>(&self, prefix: Option<&'p str>) -> Resolved<'_, 'p> {
        match self
            .bindings
            .iter()
            .rev()
            .find(|b| b.prefix.as_deref() == prefix)
        {
            Some(b) if b.ns == Ns::None => Resolved::Unbound,
            Some(b) => Resolved::In(&b.ns),
            None => match prefix {
                None => Resolved::Unbound,
                Some(p) => Resolved::UndeclaredPrefix(p),
            },
        }
    }

    /// Maps an element's name (`prefix:local`, or `local` alone) to a SyncML/MetInf tag.
    // In line, the refusals out of line: every element read by name goes through it.
    #[inline(always)]
    fn classify(&self, prefix: Option<&str>, local: &str) -> Start {
        let ours = matches!(
            self.resolve(prefix),
            Resolved::In(Ns::SyncMl | Ns::None) | Resolved::Unbound
        );
        match Tag::from_name(local.as_bytes()) {
            Some(tag) if ours => Start::Known(tag),
            _ => self.unknown(prefix, local),
        }
    }

    /// Why the element `prefix:local` is not one of ours: its namespace, or its name.
    #[cold]
    fn unknown(&self, prefix: Option<&str>, local: &str) -> Start {
        let element = local.to_owned();
        Start::Unknown(Box::new(match self.resolve(prefix) {
            Resolved::In(Ns::Other(ns)) => ErrorKind::UnknownNamespace {
                element,
                namespace: ns.to_string(),
            },
            Resolved::UndeclaredPrefix(prefix) => ErrorKind::UnknownNamespace {
                element,
                namespace: format!("{prefix}: (undeclared prefix)"),
            },
            _ => ErrorKind::UnknownElement(element),
        }))
    }

    fn open(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        self.elements += 1;
        if self.depth > self.limits.max_depth {
            return Err(DecodeError::new(
                ErrorKind::TooDeep {
                    limit: self.limits.max_depth,
                },
                self.event_start,
            ));
        }
        if self.elements > self.limits.max_elements {
            return Err(DecodeError::new(
                ErrorKind::TooManyElements {
                    limit: self.limits.max_elements,
                },
                self.event_start,
            ));
        }
        Ok(())
    }

    /// Charges text the reader had to build (unescaped, normalised, or in pieces); text
    /// borrowed from the input costs nothing beyond the model's slot for it.
    fn charged(&mut self, text: Cow<'a, str>) -> Result<Cow<'a, str>, DecodeError> {
        if let Cow::Owned(s) = &text {
            self.budget.charge(s.capacity(), self.event_start)?;
        }
        Ok(text)
    }

    fn eof_error(&self) -> DecodeError {
        DecodeError::new(ErrorKind::UnexpectedEof, self.input.len())
    }

    /// The character data of the token just read (`cdata`: a CDATA section's content, which
    /// starts after its `<![CDATA[`), held by the innermost open element.
    fn token_chars(&self, raw: &'a str, cdata: bool) -> Chars<'a> {
        Chars {
            raw,
            at: self.event_start + if cdata { CDATA_OPEN.len() } else { 0 },
            cdata,
            element: self.tokens.innermost(),
        }
    }

    /// Appends character data, refusing NUL (which no XML document can contain, and which
    /// the writer could not write back). References are resolved in text (not CDATA) and
    /// line ends normalised in both. The first piece of an element's text is kept borrowed
    /// from the input when nothing had to be resolved; a second one (text after CDATA) makes
    /// the text owned.
    fn push_chars(&self, text: &mut Cow<'a, str>, piece: Chars<'a>) -> Result<(), DecodeError> {
        let Chars {
            raw,
            at,
            cdata,
            element,
        } = piece;
        // Nearly all text has no reference, no CR and no NUL: one scan says so.
        if !raw.bytes().any(|b| matches!(b, b'&' | b'\r' | 0)) {
            if text.is_empty() {
                *text = Cow::Borrowed(raw);
            } else {
                text.to_mut().push_str(raw);
            }
            return Ok(());
        }
        if let Some(i) = raw.bytes().position(|b| b == 0) {
            return Err(DecodeError::new(
                ErrorKind::Xml(format!("NUL character in {}", Self::element_label(element))),
                at + i,
            ));
        }
        let chars = if cdata {
            line_ends(raw)
        } else {
            unescape(raw).map_err(|bad| match bad {
                BadReference::BareAmpersand(i) => DecodeError::new(
                    ErrorKind::UnescapedAmpersand {
                        element: Self::element_label(element),
                    },
                    at + i,
                ),
                BadReference::Unknown(name, i) => DecodeError::new(
                    ErrorKind::Xml(format!(
                        "unknown entity &{}; in {}",
                        crate::printable(&name).limit(32),
                        Self::element_label(element)
                    )),
                    at + i,
                ),
            })?
        };
        if text.is_empty() {
            *text = chars;
        } else {
            text.to_mut().push_str(&chars);
        }
        Ok(())
    }
}

/// What opens a CDATA section: its content starts `CDATA_OPEN.len()` octets after the
/// token's start.
const CDATA_OPEN: &str = "<![CDATA[";

/// A piece of character data and where it is, for [`XmlSource::push_chars`].
struct Chars<'a> {
    /// As written.
    raw: &'a str,
    /// Its offset in the input.
    at: usize,
    /// Inside CDATA (no references).
    cdata: bool,
    /// The element holding it, as written (`None`: outside the root).
    element: Option<&'a str>,
}

/// CDATA content with CR LF and lone CR as LF (XML 1.0 §2.11).
fn line_ends(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\r') {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
}

impl<'a> EventSource<'a> for XmlSource<'a> {
    fn next_child(&mut self) -> Result<Option<(Start, usize)>, DecodeError> {
        // The common markup in one step (what `next_event` would give).
        let at = self.position();
        match self.tokens.plain_markup() {
            Some(Plain::Start { name, default_ns }) => {
                self.event_start = at;
                return Ok(Some((self.enter(name, Attrs::Plain(default_ns))?, at)));
            }
            Some(Plain::End) => {
                self.event_start = at;
                self.close();
                return Ok(None);
            }
            None => {}
        }
        loop {
            let (start, token) = self.next_event()?;
            match token {
                Token::Start { .. } => {
                    let start = start.expect("classified on Start");
                    return Ok(Some((start, self.event_start)));
                }
                Token::End => return Ok(None),
                Token::Text(t) if is_blank(t.as_bytes()) => {}
                Token::Text(t) => {
                    return Err(DecodeError::new(
                        ErrorKind::UnexpectedText(crate::error::excerpt(t.trim())),
                        self.event_start,
                    ));
                }
                Token::CData(c) if is_blank(c.as_bytes()) => {}
                Token::CData(_) => {
                    return Err(DecodeError::new(
                        ErrorKind::UnexpectedText("character data".into()),
                        self.event_start,
                    ));
                }
                Token::Eof if self.depth == 0 => return Ok(None),
                Token::Eof => return Err(self.eof_error()),
            }
        }
    }

    fn read_text(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        if let Some(text) = self.plain_text() {
            return text;
        }
        let mut text = Cow::Borrowed("");
        loop {
            let (start, token) = self.next_event()?;
            match token {
                Token::Text(t) => self.push_chars(&mut text, self.token_chars(t, false))?,
                Token::CData(c) => self.push_chars(&mut text, self.token_chars(c, true))?,
                Token::End => return self.charged(text),
                Token::Start { .. } => {
                    let element = match start.expect("classified on Start") {
                        Start::Known(tag) => tag.name().to_owned(),
                        Start::Unknown(kind) => kind.to_string(),
                    };
                    return Err(DecodeError::new(
                        ErrorKind::MisplacedElement {
                            element,
                            parent: "text content".into(),
                        },
                        self.event_start,
                    ));
                }
                Token::Eof => return Err(self.eof_error()),
            }
        }
    }

    fn read_data(&mut self) -> Result<RawData<'a>, DecodeError> {
        if let Some(text) = self.plain_text() {
            return text.map(RawData::Text);
        }
        let content_start = self.position();
        let data_depth = self.depth;
        let mut text = Cow::Borrowed("");
        let mut markup = false;
        loop {
            let (_, token) = self.next_event()?;
            match token {
                Token::Text(t) if !markup => {
                    self.push_chars(&mut text, self.token_chars(t, false))?
                }
                Token::CData(c) if !markup => {
                    self.push_chars(&mut text, self.token_chars(c, true))?
                }
                Token::Text(_) | Token::CData(_) => {}
                Token::Start { .. } => markup = true,
                Token::End if self.depth < data_depth => {
                    if markup {
                        let input: &'a str = self.input;
                        return Ok(RawData::Markup(Cow::Borrowed(
                            &input[content_start..self.event_start],
                        )));
                    }
                    return Ok(RawData::Text(self.charged(text)?));
                }
                Token::End => {}
                Token::Eof => return Err(self.eof_error()),
            }
        }
    }

    fn skip_to_depth(&mut self, depth: usize) -> Result<(), DecodeError> {
        while self.depth > depth {
            let (_, token) = self.next_event()?;
            if token == Token::Eof {
                return Err(self.eof_error());
            }
        }
        Ok(())
    }

    fn charge(&mut self, bytes: usize) -> Result<(), DecodeError> {
        self.budget.charge(bytes, self.event_start)
    }

    fn budget_left(&self) -> usize {
        self.budget.left()
    }

    fn likely_commands(&self) -> usize {
        self.input.len().saturating_sub(self.position()) / TYPICAL_COMMAND_OCTETS
    }

    fn depth(&self) -> usize {
        self.depth
    }

    fn offset(&self) -> usize {
        self.position()
    }

    fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            let (start, token) = self.next_event()?;
            match token {
                Token::Eof => return Ok(()),
                Token::Text(t) if is_blank(t.as_bytes()) => {}
                Token::Start { .. } => {
                    let element = match start.expect("classified on Start") {
                        Start::Known(tag) => tag.name().to_owned(),
                        Start::Unknown(kind) => kind.to_string(),
                    };
                    return Err(DecodeError::new(
                        ErrorKind::MisplacedElement {
                            element,
                            parent: String::new(),
                        },
                        self.event_start,
                    ));
                }
                _ => return Err(DecodeError::new(ErrorKind::TrailingData, self.event_start)),
            }
        }
    }
}

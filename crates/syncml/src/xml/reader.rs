//! XML → element stream, on `quick-xml`'s plain reader over a byte slice, with namespaces
//! tracked here (quick-xml's `NsReader` cost 60% more per event, for two namespaces).
//!
//! Namespaces: an element may be in a SyncML namespace (`SYNCML:SYNCML1.0`–`1.2`, compared
//! case-insensitively), in `syncml:metinf`, or in no namespace at all (many peers omit the
//! `xmlns` on Meta children); it is then identified by its local name, which is unique across
//! both vocabularies. Any other namespace makes the element unknown. Entity references are
//! limited to the five predefined ones and character references, so no input can expand.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::PrefixDeclaration;
use quick_xml::Reader;

use crate::error::{DecodeError, ErrorKind};
use crate::events::{is_blank, EventSource, RawData, Start};
use crate::limits::{Budget, Limits};
use crate::tag::{Tag, METINF_NS};

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
enum Resolved<'n> {
    /// In this namespace.
    In(&'n Ns),
    /// No namespace applies (unprefixed, no default declared).
    Unbound,
    /// A prefix no declaration binds.
    UndeclaredPrefix(String),
}

/// Reads one XML SyncML document.
pub(crate) struct XmlSource<'a> {
    reader: Reader<&'a [u8]>,
    /// The namespace declarations in scope, innermost last.
    bindings: Vec<Binding>,
    input: &'a [u8],
    limits: Limits,
    depth: usize,
    elements: usize,
    /// Offset of the event being read (the reader's position before it).
    event_start: usize,
    budget: Budget,
    /// The open elements (None: not a SyncML element), innermost last, for errors that name
    /// the element they are in; at most `limits.max_depth` long.
    open: Vec<Option<Tag>>,
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
        let mut reader = Reader::from_reader(input);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text(false);
        Ok(XmlSource {
            reader,
            bindings: Vec::new(),
            input,
            limits,
            depth: 0,
            elements: 0,
            event_start: 0,
            budget: Budget::new(&limits, input.len()),
            open: Vec::new(),
        })
    }

    fn position(&self) -> usize {
        self.reader.buffer_position() as usize
    }

    /// The innermost open element, for messages: `<Data>`, `an unknown element` or `the
    /// document`.
    fn current_element(&self) -> String {
        match self.open.last() {
            Some(Some(tag)) => format!("<{}>", tag.name()),
            Some(None) => "an unknown element".to_owned(),
            None => "the document".to_owned(),
        }
    }

    fn unescaped_ampersand(&self, at: usize) -> DecodeError {
        DecodeError::new(
            ErrorKind::UnescapedAmpersand {
                element: self.current_element(),
            },
            at,
        )
    }

    fn xml_error(&self, err: quick_xml::Error) -> DecodeError {
        let at = self.reader.error_position() as usize;
        match err {
            quick_xml::Error::IllFormed(quick_xml::errors::IllFormedError::UnclosedReference) => {
                // Point at the `&` itself.
                let amp = self.input[..at.min(self.input.len())]
                    .iter()
                    .rposition(|&b| b == b'&')
                    .unwrap_or(at);
                self.unescaped_ampersand(amp)
            }
            quick_xml::Error::Syntax(quick_xml::errors::SyntaxError::UnclosedTag)
            | quick_xml::Error::IllFormed(quick_xml::errors::IllFormedError::MissingEndTag(_)) => {
                DecodeError::new(ErrorKind::UnexpectedEof, at)
            }
            other => DecodeError::new(ErrorKind::Xml(other.to_string()), at),
        }
    }

    /// Reads the next event, recording where it started.
    fn next_event(&mut self) -> Result<(Option<Start>, Event<'a>), DecodeError> {
        self.event_start = self.position();
        let event = match self.reader.read_event() {
            Ok(event) => event,
            Err(err) => return Err(self.xml_error(err)),
        };
        let start = match &event {
            Event::Start(e) => {
                self.open()?;
                self.declare(e)?;
                let start = self.classify(e);
                self.open.push(match &start {
                    Start::Known(tag) => Some(*tag),
                    Start::Unknown(_) => None,
                });
                Some(start)
            }
            Event::End(_) => {
                self.depth -= 1;
                self.open.pop();
                while self.bindings.last().is_some_and(|b| b.depth > self.depth) {
                    self.bindings.pop();
                }
                None
            }
            _ => None,
        };
        Ok((start, event))
    }

    /// Records the namespace declarations of the element just opened (at `self.depth`).
    fn declare(&mut self, e: &BytesStart<'_>) -> Result<(), DecodeError> {
        if !e.attributes_raw().contains("xmlns") {
            return Ok(());
        }
        for attr in e.attributes() {
            let attr = attr.map_err(|err| {
                DecodeError::new(ErrorKind::Xml(err.to_string()), self.event_start)
            })?;
            let prefix: Option<Box<str>> = match attr.key.as_namespace_binding() {
                Some(PrefixDeclaration::Default) => None,
                Some(PrefixDeclaration::Named(p)) => Some(p.into()),
                None => continue,
            };
            if self.bindings.len() == MAX_BINDINGS {
                return Err(DecodeError::new(
                    ErrorKind::Xml(format!(
                        "more than {MAX_BINDINGS} namespace declarations in scope"
                    )),
                    self.event_start,
                ));
            }
            self.budget.charge(
                size_of::<Binding>() + prefix.as_ref().map_or(0, |p| p.len()) + attr.value.len(),
                self.event_start,
            )?;
            self.bindings.push(Binding {
                depth: self.depth,
                prefix,
                ns: Ns::of(&attr.value),
            });
        }
        Ok(())
    }

    /// Which namespace `prefix` (`None`: the default one) is bound to here.
    fn resolve(&self, prefix: Option<&str>) -> Resolved<'_> {
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
                Some(p) => Resolved::UndeclaredPrefix(p.to_owned()),
            },
        }
    }

    /// Maps an element's name to a SyncML/MetInf tag.
    fn classify(&self, e: &BytesStart<'_>) -> Start {
        let qname = e.name();
        let local = qname.local_name();
        let local: &str = local.as_ref();
        let name = || local.to_owned();
        match self.resolve(qname.prefix().as_ref().map(|p| p.as_ref())) {
            Resolved::In(Ns::SyncMl) | Resolved::Unbound => {}
            Resolved::In(Ns::None) => {}
            Resolved::In(Ns::Other(ns)) => {
                return Start::Unknown(ErrorKind::UnknownNamespace {
                    element: name(),
                    namespace: ns.to_string(),
                })
            }
            Resolved::UndeclaredPrefix(prefix) => {
                return Start::Unknown(ErrorKind::UnknownNamespace {
                    element: name(),
                    namespace: format!("{prefix}: (undeclared prefix)"),
                })
            }
        }
        match Tag::from_name(local.as_bytes()) {
            Some(tag) => Start::Known(tag),
            None => Start::Unknown(ErrorKind::UnknownElement(name())),
        }
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

    /// Appends character data, refusing NUL (which no XML document can contain, and which
    /// the writer could not write back); `raw` is the event's undecoded content, which
    /// starts `lead` octets after the event (9 for `<![CDATA[`), for the NUL's own offset.
    /// The first piece of an element's text is kept borrowed from the input; a second one
    /// (text after a reference, CDATA after text) makes the text owned.
    fn push_chars(
        &self,
        text: &mut Cow<'a, str>,
        raw: &[u8],
        lead: usize,
        chars: Cow<'a, str>,
    ) -> Result<(), DecodeError> {
        if let Some(i) = raw.iter().position(|&b| b == 0) {
            return Err(DecodeError::new(
                ErrorKind::Xml(format!("NUL character in {}", self.current_element())),
                self.event_start + lead + i,
            ));
        }
        if text.is_empty() {
            *text = chars;
        } else {
            text.to_mut().push_str(&chars);
        }
        Ok(())
    }

    /// Appends the text of a character or predefined entity reference.
    fn push_reference(
        &self,
        text: &mut Cow<'a, str>,
        reference: &BytesRef<'_>,
    ) -> Result<(), DecodeError> {
        let bad = |what: &str| {
            // `&` followed by something that is no entity name (`a & b; c`) is a bare `&`.
            if what.is_empty()
                || what
                    .chars()
                    .any(|c| c.is_whitespace() || "<>&\"'".contains(c))
            {
                return self.unescaped_ampersand(self.event_start);
            }
            DecodeError::new(
                ErrorKind::Xml(format!(
                    "unknown entity &{}; in {}",
                    crate::printable(what).limit(32),
                    self.current_element()
                )),
                self.event_start,
            )
        };
        if reference.is_char_ref() {
            match reference.resolve_char_ref() {
                Ok(Some(c)) => text.to_mut().push(c),
                _ => return Err(bad(reference)),
            }
        } else {
            match quick_xml::escape::resolve_predefined_entity(reference) {
                Some(s) => text.to_mut().push_str(s),
                None => return Err(bad(reference)),
            }
        }
        Ok(())
    }
}

impl<'a> EventSource<'a> for XmlSource<'a> {
    fn next_child(&mut self) -> Result<Option<(Start, usize)>, DecodeError> {
        loop {
            let (start, event) = self.next_event()?;
            match event {
                Event::Start(_) => {
                    let start = start.expect("classified on Start");
                    return Ok(Some((start, self.event_start)));
                }
                Event::End(_) => return Ok(None),
                Event::Text(t) if is_blank(t.as_bytes()) => {}
                Event::Text(t) => {
                    let text = t.xml10_content();
                    return Err(DecodeError::new(
                        ErrorKind::UnexpectedText(crate::error::excerpt(text.trim())),
                        self.event_start,
                    ));
                }
                Event::CData(c) if is_blank(c.as_bytes()) => {}
                Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(DecodeError::new(
                        ErrorKind::UnexpectedText("character data".into()),
                        self.event_start,
                    ));
                }
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
                Event::Empty(_) => unreachable!("expand_empty_elements is set"),
                Event::Eof if self.depth == 0 => return Ok(None),
                Event::Eof => return Err(self.eof_error()),
            }
        }
    }

    fn read_text(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        let mut text = Cow::Borrowed("");
        loop {
            let (start, event) = self.next_event()?;
            match event {
                Event::Text(t) => self.push_chars(&mut text, t.as_bytes(), 0, t.xml10_content())?,
                Event::CData(c) => {
                    self.push_chars(&mut text, c.as_bytes(), 9, c.xml10_content())?
                }
                Event::GeneralRef(r) => self.push_reference(&mut text, &r)?,
                Event::End(_) => {
                    return self.charged(text);
                }
                Event::Start(_) => {
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
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
                Event::Empty(_) => unreachable!("expand_empty_elements is set"),
                Event::Eof => return Err(self.eof_error()),
            }
        }
    }

    fn read_data(&mut self) -> Result<RawData<'a>, DecodeError> {
        let content_start = self.position();
        let data_depth = self.depth;
        let mut text = Cow::Borrowed("");
        let mut markup = false;
        loop {
            let (_, event) = self.next_event()?;
            match event {
                Event::Text(t) => {
                    if !markup {
                        self.push_chars(&mut text, t.as_bytes(), 0, t.xml10_content())?
                    }
                }
                Event::CData(c) => {
                    if !markup {
                        self.push_chars(&mut text, c.as_bytes(), 9, c.xml10_content())?
                    }
                }
                Event::GeneralRef(r) => {
                    if !markup {
                        self.push_reference(&mut text, &r)?
                    }
                }
                Event::Start(_) => markup = true,
                Event::End(_) if self.depth < data_depth => {
                    if markup {
                        let input: &'a [u8] = self.input;
                        let raw = &input[content_start..self.event_start];
                        let raw = std::str::from_utf8(raw)
                            .map_err(|_| DecodeError::new(ErrorKind::InvalidUtf8, content_start))?;
                        return Ok(RawData::Markup(Cow::Borrowed(raw)));
                    }
                    return Ok(RawData::Text(self.charged(text)?));
                }
                Event::End(_) | Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
                Event::DocType(_) => {}
                Event::Empty(_) => unreachable!("expand_empty_elements is set"),
                Event::Eof => return Err(self.eof_error()),
            }
        }
    }

    fn skip_to_depth(&mut self, depth: usize) -> Result<(), DecodeError> {
        while self.depth > depth {
            let (_, event) = self.next_event()?;
            if matches!(event, Event::Eof) {
                return Err(self.eof_error());
            }
        }
        Ok(())
    }

    fn charge(&mut self, bytes: usize) -> Result<(), DecodeError> {
        self.budget.charge(bytes, self.event_start)
    }

    fn depth(&self) -> usize {
        self.depth
    }

    fn offset(&self) -> usize {
        self.position()
    }

    fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            let (start, event) = self.next_event()?;
            match event {
                Event::Eof => return Ok(()),
                Event::Text(t) if is_blank(t.as_bytes()) => {}
                Event::Comment(_) | Event::PI(_) => {}
                Event::Start(_) => {
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

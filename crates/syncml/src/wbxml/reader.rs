//! WBXML → element stream.
//!
//! Strict about structure (every tag closed, nothing after the root, no attributes, no
//! LITERAL or extension tokens, code pages 0 and 1 only), lenient about what is harmless:
//! any SyncML public identifier whatever the VerDTD inside, the string table's last string
//! unterminated, character data as inline strings, table strings, entities or OPAQUE.

use std::borrow::Cow;

use super::header::{parse_header, read_mb_u32, table_string, token, Charset};
use super::nul::find_nul;
use crate::error::{DecodeError, ErrorKind};
use crate::events::{is_blank, EventSource, FormatAndType, LedCommand, RawData, Start};
use crate::limits::{Budget, Limits};
use crate::tag::Tag;

/// One piece of character data.
enum Chars<'a> {
    Str(&'a [u8]),
    Entity(u32),
    Opaque(&'a [u8]),
}

/// What the next token is.
enum Token<'a> {
    Tag(Start),
    End,
    Chars(Chars<'a>),
    Eof,
}

/// Octets a typical DM command takes in WBXML (an Add or Replace of a short value with its
/// Format and Type is 70 to 80, a Get or Delete of a short URI 30 to 40): what
/// [`EventSource::likely_commands`] divides by.
const TYPICAL_COMMAND_OCTETS: usize = 48;

/// Reads one WBXML SyncML document.
pub(crate) struct WbxmlSource<'a> {
    input: &'a [u8],
    pos: usize,
    page: u8,
    charset: Charset,
    string_table: &'a [u8],
    /// A run of the input known to be valid UTF-8 (empty at first), so that a UTF-8
    /// document's strings are checked run by run rather than one by one. When a string
    /// lies beyond it, the input is checked from the string's start until the next OPAQUE
    /// token or its first octet that is not UTF-8, and the strings up to there are slices
    /// of that run. Runs never overlap, so no octet is checked twice in a run (strings
    /// before the run, in the string table, or past its end are checked alone).
    valid_utf8: &'a str,
    /// Where `valid_utf8` starts in the input.
    valid_from: usize,
    limits: Limits,
    depth: usize,
    elements: usize,
    /// The element just opened has no content: its end is implied.
    pending_end: bool,
    token_start: usize,
    budget: Budget,
}

impl<'a> WbxmlSource<'a> {
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
        let header = parse_header(input)?;
        Ok(WbxmlSource {
            input,
            pos: header.body_offset,
            page: 0,
            charset: header.charset,
            string_table: header.string_table,
            valid_utf8: "",
            valid_from: 0,
            limits,
            depth: 0,
            elements: 0,
            pending_end: false,
            token_start: header.body_offset,
            budget: Budget::new(&limits, input.len()),
        })
    }

    /// This reader with `left` octets of memory budget, whatever its limits give (tests
    /// that run the budget out at every charge).
    #[cfg(test)]
    pub(crate) fn with_budget_left(mut self, left: usize) -> Self {
        self.budget = Budget::with_left(left);
        self
    }

    fn err(&self, kind: ErrorKind) -> DecodeError {
        DecodeError::new(kind, self.token_start)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or_else(|| DecodeError::new(ErrorKind::UnexpectedEof, self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads the next token, following page switches and maintaining depth and limits.
    fn token(&mut self) -> Result<Token<'a>, DecodeError> {
        if self.pending_end {
            self.pending_end = false;
            self.depth -= 1;
            return Ok(Token::End);
        }
        loop {
            self.token_start = self.pos;
            let Some(&b) = self.input.get(self.pos) else {
                return Ok(Token::Eof);
            };
            self.pos += 1;
            match b {
                token::SWITCH_PAGE => {
                    let page = self.byte()?;
                    if page > 1 {
                        return Err(self.err(ErrorKind::UnknownCodePage(page)));
                    }
                    self.page = page;
                }
                token::END => {
                    if self.depth == 0 {
                        return Err(self.err(ErrorKind::TrailingData));
                    }
                    self.depth -= 1;
                    return Ok(Token::End);
                }
                token::ENTITY => {
                    let code = read_mb_u32(self.input, &mut self.pos)?;
                    return Ok(Token::Chars(Chars::Entity(code)));
                }
                token::STR_I => {
                    let rest = &self.input[self.pos..];
                    let len = find_nul(rest).ok_or_else(|| {
                        DecodeError::new(ErrorKind::UnexpectedEof, self.input.len())
                    })?;
                    self.pos += len + 1;
                    return Ok(Token::Chars(Chars::Str(&rest[..len])));
                }
                token::STR_T => {
                    let index = read_mb_u32(self.input, &mut self.pos)?;
                    let s = table_string(self.string_table, index)
                        .ok_or_else(|| self.err(ErrorKind::BadStringTableRef(index)))?;
                    return Ok(Token::Chars(Chars::Str(s)));
                }
                token::OPAQUE => {
                    let len = read_mb_u32(self.input, &mut self.pos)? as usize;
                    let end = self
                        .pos
                        .checked_add(len)
                        .filter(|&end| end <= self.input.len())
                        .ok_or_else(|| {
                            DecodeError::new(ErrorKind::UnexpectedEof, self.input.len())
                        })?;
                    let bytes = &self.input[self.pos..end];
                    self.pos = end;
                    return Ok(Token::Chars(Chars::Opaque(bytes)));
                }
                _ if b & 0x3F < 0x05 || b & token::WITH_ATTRIBUTES != 0 => {
                    // LITERAL*, EXT*, PI and attribute-bearing tags: SyncML uses none.
                    return Err(self.err(ErrorKind::UnsupportedToken(b)));
                }
                _ => {
                    let content = b & token::WITH_CONTENT != 0;
                    let id = b & 0x3F;
                    let tag = match Tag::from_token(self.page, id) {
                        Some(tag) => Start::Known(tag),
                        None => Start::Unknown(Box::new(ErrorKind::UnknownElement(format!(
                            "token 0x{id:02X} on code page {}",
                            self.page
                        )))),
                    };
                    self.open()?;
                    if !content {
                        self.pending_end = true;
                    }
                    return Ok(Token::Tag(tag));
                }
            }
        }
    }

    fn open(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        self.elements += 1;
        if self.depth > self.limits.max_depth {
            return Err(self.err(ErrorKind::TooDeep {
                limit: self.limits.max_depth,
            }));
        }
        if self.elements > self.limits.max_elements {
            return Err(self.err(ErrorKind::TooManyElements {
                limit: self.limits.max_elements,
            }));
        }
        Ok(())
    }

    /// A string of the input (inline or in the string table) as text: borrowed when it is
    /// UTF-8 (or ASCII in a Latin-1 document), else converted.
    fn chars(&mut self, bytes: &'a [u8]) -> Result<Cow<'a, str>, DecodeError> {
        match self.charset {
            Charset::Utf8 => match self.known_utf8(bytes) {
                Some(text) => Ok(Cow::Borrowed(text)),
                None => Err(self.err(ErrorKind::InvalidUtf8)),
            },
            Charset::Latin1 if bytes.is_ascii() => Ok(Cow::Borrowed(
                std::str::from_utf8(bytes).map_err(|_| self.err(ErrorKind::InvalidUtf8))?,
            )),
            Charset::Latin1 => Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())),
        }
    }

    /// `bytes` as text when they are UTF-8, checked against the run of the input already
    /// known to be UTF-8, or starting a new one (`bytes` not from the input are checked
    /// alone).
    // In line: every string goes through it, and nearly all lie in the run.
    #[inline(always)]
    fn known_utf8(&mut self, bytes: &'a [u8]) -> Option<&'a str> {
        let start = (bytes.as_ptr() as usize).wrapping_sub(self.input.as_ptr() as usize);
        // (A slice from elsewhere, whose offset would overflow, is checked alone.)
        let end = start.saturating_add(bytes.len());
        if start < self.valid_from || end > self.valid_from + self.valid_utf8.len() {
            return self.new_utf8_run(bytes, start, end);
        }
        // Within a valid run, a slice is valid when both its ends are character boundaries.
        self.valid_utf8
            .get(start - self.valid_from..end - self.valid_from)
    }

    /// As [`WbxmlSource::known_utf8`] for `bytes` (at `start..end` of the input) beyond the
    /// run: the input checked from `start` on, as the new run.
    #[cold]
    fn new_utf8_run(&mut self, bytes: &'a [u8], start: usize, end: usize) -> Option<&'a str> {
        if start < self.valid_from + self.valid_utf8.len() || end > self.input.len() {
            // Before the run (the string table), straddling its end (so holding the octet
            // that ended it), or no slice of the input: checked alone.
            return std::str::from_utf8(bytes).ok();
        }
        let rest = &self.input[start..];
        // The run is tried up to the next OPAQUE token (where a body's UTF-8 nearly always
        // stops: octets follow it), so that it is checked in one pass rather than checked
        // to its end and then again up to it; a string running past that octet (it also
        // starts some two-octet characters) is checked alone.
        let window = memchr::memchr(token::OPAQUE, rest).map_or(rest, |k| &rest[..k]);
        self.valid_utf8 = match std::str::from_utf8(window) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).ok()?,
        };
        self.valid_from = start;
        self.valid_utf8
            .get(..bytes.len())
            .or_else(|| std::str::from_utf8(bytes).ok())
    }

    /// Appends character data. The first piece of an element's text stays borrowed; text
    /// built from several pieces is owned, and charged (twice: a growing string's spare
    /// capacity) to the budget first: a string-table entry referenced again and again must
    /// not grow text beyond what the input's size allows.
    fn push_str(&mut self, out: &mut Cow<'a, str>, bytes: &'a [u8]) -> Result<(), DecodeError> {
        if out.is_empty() {
            *out = self.first_piece(bytes)?;
            return Ok(());
        }
        let piece = self.chars(bytes)?;
        self.charge_growth(out.len(), matches!(out, Cow::Borrowed(_)), piece.len())?;
        out.to_mut().push_str(&piece);
        Ok(())
    }

    /// The first piece of an element's text (see [`WbxmlSource::push_str`]).
    // In line: most leaves are one piece.
    #[inline(always)]
    fn first_piece(&mut self, bytes: &'a [u8]) -> Result<Cow<'a, str>, DecodeError> {
        if self.charset == Charset::Utf8 {
            // Nearly every string (as `chars`, without its call): borrowed, never charged.
            return match self.known_utf8(bytes) {
                Some(text) => Ok(Cow::Borrowed(text)),
                None => Err(self.err(ErrorKind::InvalidUtf8)),
            };
        }
        let piece = self.chars(bytes)?;
        if let Cow::Owned(s) = &piece {
            self.budget.charge(2 * s.len(), self.token_start)?;
        }
        Ok(piece)
    }

    /// Charges `added` octets joining content of `len` octets, which is copied first when it
    /// is still borrowed (`borrowed`).
    fn charge_growth(
        &mut self,
        len: usize,
        borrowed: bool,
        added: usize,
    ) -> Result<(), DecodeError> {
        let copied = if borrowed { len } else { 0 };
        self.budget.charge(2 * (copied + added), self.token_start)
    }

    fn push_entity(&mut self, out: &mut Cow<'a, str>, code: u32) -> Result<(), DecodeError> {
        self.charge_growth(out.len(), matches!(out, Cow::Borrowed(_)), 4)?;
        let c = char::from_u32(code).ok_or_else(|| {
            self.err(ErrorKind::InvalidValue {
                element: "ENTITY",
                value: code.to_string(),
            })
        })?;
        out.to_mut().push(c);
        Ok(())
    }

    /// When the element's content is `STR_I text 00 END` (what nearly every leaf holds): its
    /// text, read with the element's end in one step (what the tokens would give);
    /// otherwise nothing is read.
    // In line in both callers: it is most leaves' whole reading.
    #[inline(always)]
    fn plain_string(&mut self) -> Option<Result<Cow<'a, str>, DecodeError>> {
        if self.pending_end || self.input.get(self.pos) != Some(&token::STR_I) {
            return None;
        }
        let from = self.pos + 1;
        let len = find_nul(&self.input[from..])?;
        if self.input.get(from + len + 1) != Some(&token::END) {
            return None;
        }
        self.token_start = self.pos;
        let text = match self.first_piece(&self.input[from..from + len]) {
            Ok(text) => text,
            Err(e) => return Some(Err(e)),
        };
        self.token_start = from + len + 1;
        self.pos = from + len + 2;
        self.depth -= 1;
        Some(Ok(text))
    }

    /// When the element's content is `OPAQUE length octets END`: the octets, read with the
    /// element's end in one step; otherwise nothing is read.
    fn plain_opaque(&mut self) -> Option<&'a [u8]> {
        if self.pending_end || self.input.get(self.pos) != Some(&token::OPAQUE) {
            return None;
        }
        let mut at = self.pos + 1;
        let len = read_mb_u32(self.input, &mut at).ok()? as usize;
        let end = at.checked_add(len)?;
        if self.input.get(end) != Some(&token::END) {
            return None;
        }
        let bytes = &self.input[at..end];
        self.token_start = end;
        self.pos = end + 1;
        self.depth -= 1;
        Some(bytes)
    }

    /// `[[SWITCH_PAGE 0] tags...] LocURI STR_I text 00 END END` on code page 0: the starts
    /// of `tags` when there are any (elements of page 0, the first after a switch to page 0
    /// if need be; with none, the location is open already), the LocURI's start (each opened
    /// as `next_child` opens it), its text (read as `plain_string` reads it) and the ends of
    /// the LocURI and of the location. Nothing is read unless all of it is there.
    // In line in every caller: each keeps only its own case.
    #[inline(always)]
    fn location_in_one_step<const N: usize>(
        &mut self,
        tags: [Tag; N],
    ) -> Option<Result<Cow<'a, str>, DecodeError>> {
        const LOC_URI: u8 = Tag::LocUri.token() | token::WITH_CONTENT;
        if self.pending_end {
            return None;
        }
        // Where the LocURI's start is: after the starts of `tags` (when they are to be read).
        let at = match tags.split_first() {
            Some((&first, rest)) => {
                let mut at = self.next_tag_at(first)? + 1;
                for tag in rest {
                    debug_assert_eq!(tag.page() as u8, 0);
                    if self.input.get(at) != Some(&(tag.token() | token::WITH_CONTENT)) {
                        return None;
                    }
                    at += 1;
                }
                at
            }
            // (Page 0 is implied, every location element being of page 0; checked all the
            // same.)
            None if self.page != 0 => return None,
            None => self.pos,
        };
        if self.input.get(at..at + 2) != Some(&[LOC_URI, token::STR_I]) {
            return None;
        }
        let from = at + 2;
        let len = find_nul(&self.input[from..])?;
        if self.input.get(from + len + 1..from + len + 3) != Some(&[token::END, token::END]) {
            return None;
        }
        if N > 0 {
            self.page = 0;
            // Opened in order, each at its own start: the first limit met names its element.
            for k in 0..N {
                self.token_start = at - N + k;
                if let Err(e) = self.open() {
                    return Some(Err(e));
                }
            }
        }
        let text = match self.read_leaf(at, from, len) {
            Ok(text) => text,
            Err(e) => return Some(Err(e)),
        };
        // The location's end.
        self.token_start = from + len + 2;
        self.pos = from + len + 3;
        self.depth -= 1;
        Some(Ok(text))
    }

    /// Where `tag`'s start (with content) is when it comes next: after a switch to its
    /// page, or at once when its page is in force.
    #[inline(always)]
    fn next_tag_at(&self, tag: Tag) -> Option<usize> {
        self.tag_at(self.pos, self.page, tag)
    }

    /// Where `tag`'s start (with content) is when it comes at `pos` with `page` in force:
    /// after a switch to its page, or at once when its page is in force.
    #[inline(always)]
    fn tag_at(&self, mut at: usize, page: u8, tag: Tag) -> Option<usize> {
        let tag_page = tag.page() as u8;
        if *self.input.get(at)? == token::SWITCH_PAGE {
            if self.input.get(at + 1) != Some(&tag_page) {
                return None;
            }
            at += 2;
        } else if tag_page != page {
            return None;
        }
        (self.input.get(at) == Some(&(tag.token() | token::WITH_CONTENT))).then_some(at)
    }

    /// `[SWITCH_PAGE page] tag STR_I text 00 END` at `pos` with `page` in force, the switch
    /// only to `tag`'s page: where the tag's start is, and where its text is and how long
    /// (the leaf's end follows the text's NUL).
    #[inline(always)]
    fn leaf_at(&self, pos: usize, page: u8, tag: Tag) -> Option<(usize, usize, usize)> {
        let at = self.tag_at(pos, page, tag)?;
        if self.input.get(at + 1) != Some(&token::STR_I) {
            return None;
        }
        let from = at + 2;
        let len = find_nul(&self.input[from..])?;
        if self.input.get(from + len + 1) != Some(&token::END) {
            return None;
        }
        Some((at, from, len))
    }

    /// Opens the element whose start is at `at`, as `next_child` opens it, and reads its
    /// inline string of `len` octets at `from`, as `plain_string` reads it.
    #[inline(always)]
    fn open_with_text(
        &mut self,
        at: usize,
        from: usize,
        len: usize,
    ) -> Result<Cow<'a, str>, DecodeError> {
        self.token_start = at;
        self.pos = at + 1;
        self.open()?;
        self.token_start = from - 1;
        self.first_piece(&self.input[from..from + len])
    }

    /// The leaf `leaf_at` found (its start at `at`, its text `len` octets at `from`): opened
    /// with its text as [`WbxmlSource::open_with_text`] does, and its end taken.
    #[inline(always)]
    fn read_leaf(
        &mut self,
        at: usize,
        from: usize,
        len: usize,
    ) -> Result<Cow<'a, str>, DecodeError> {
        let text = self.open_with_text(at, from, len)?;
        self.token_start = from + len + 1;
        self.pos = from + len + 2;
        self.depth -= 1;
        Ok(text)
    }

    fn misplaced_in_text(&self, tag: Start) -> DecodeError {
        let element = match tag {
            Start::Known(tag) => tag.name().to_owned(),
            Start::Unknown(kind) => kind.to_string(),
        };
        self.err(ErrorKind::MisplacedElement {
            element,
            parent: "text content".into(),
        })
    }
}

impl<'a> EventSource<'a> for WbxmlSource<'a> {
    fn next_child(&mut self) -> Result<Option<(Start, usize)>, DecodeError> {
        // The common tokens, a known tag of the page in force or END, in one step (what
        // `token` would give); a switch to page 0 or 1 before them (MetInf elements, and
        // back) taken in the same step.
        if let (false, Some(&first)) = (self.pending_end, self.input.get(self.pos)) {
            let mut b = first;
            if b == token::SWITCH_PAGE {
                if let (Some(&page @ 0..=1), Some(&next)) =
                    (self.input.get(self.pos + 1), self.input.get(self.pos + 2))
                {
                    self.page = page;
                    self.pos += 2;
                    b = next;
                }
            }
            if b == token::END && self.depth > 0 {
                self.token_start = self.pos;
                self.pos += 1;
                self.depth -= 1;
                return Ok(None);
            }
            let tag = (b & 0x3F >= 0x05 && b & token::WITH_ATTRIBUTES == 0)
                .then(|| Tag::from_token(self.page, b & 0x3F))
                .flatten();
            if let Some(tag) = tag {
                self.token_start = self.pos;
                self.pos += 1;
                self.open()?;
                self.pending_end = b & token::WITH_CONTENT == 0;
                return Ok(Some((Start::Known(tag), self.token_start)));
            }
        }
        loop {
            match self.token()? {
                Token::Tag(tag) => return Ok(Some((tag, self.token_start))),
                Token::End => return Ok(None),
                Token::Chars(Chars::Str(s)) | Token::Chars(Chars::Opaque(s)) if is_blank(s) => {}
                Token::Chars(_) => {
                    return Err(self.err(ErrorKind::UnexpectedText("character data".into())))
                }
                Token::Eof if self.depth == 0 => return Ok(None),
                Token::Eof => return Err(DecodeError::new(ErrorKind::UnexpectedEof, self.pos)),
            }
        }
    }

    fn read_text(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        if let Some(text) = self.plain_string() {
            return text;
        }
        let mut text = Cow::Borrowed("");
        loop {
            match self.token()? {
                Token::End => return Ok(text),
                Token::Chars(Chars::Str(s)) | Token::Chars(Chars::Opaque(s)) => {
                    self.push_str(&mut text, s)?
                }
                Token::Chars(Chars::Entity(code)) => self.push_entity(&mut text, code)?,
                Token::Tag(tag) => return Err(self.misplaced_in_text(tag)),
                Token::Eof => return Err(DecodeError::new(ErrorKind::UnexpectedEof, self.pos)),
            }
        }
    }

    fn reads_in_one_step(&self) -> bool {
        true
    }

    fn plain_location(&mut self) -> Option<Result<Cow<'a, str>, DecodeError>> {
        self.location_in_one_step([])
    }

    fn plain_location_child(&mut self, tag: Tag) -> Option<Result<Cow<'a, str>, DecodeError>> {
        self.location_in_one_step([tag])
    }

    fn plain_item_target(&mut self) -> Option<Result<Cow<'a, str>, DecodeError>> {
        self.location_in_one_step([Tag::Item, Tag::Target])
    }

    /// `[SWITCH_PAGE page] tag STR_I text 00 END`, the switch only to `tag`'s page: the
    /// start (opened as `next_child` opens it), the text (read as `plain_string` reads it)
    /// and the end.
    fn plain_leaf(&mut self, tag: Tag) -> Option<Result<Cow<'a, str>, DecodeError>> {
        if self.pending_end {
            return None;
        }
        let (at, from, len) = self.leaf_at(self.pos, self.page, tag)?;
        self.page = tag.page() as u8;
        Some(self.read_leaf(at, from, len))
    }

    /// `[SWITCH_PAGE 0] (Add | Copy | Delete | Get | Replace) CmdID-leaf`: the command's start
    /// (opened as `next_child` opens it) and its CmdID, read as `plain_leaf` reads it.
    fn plain_item_command(&mut self) -> Option<Result<LedCommand<'a>, DecodeError>> {
        if self.pending_end {
            return None;
        }
        let mut at = self.pos;
        if *self.input.get(at)? == token::SWITCH_PAGE {
            if self.input.get(at + 1) != Some(&0) {
                return None;
            }
            at += 2;
        } else if self.page != 0 {
            return None;
        }
        let b = *self.input.get(at)?;
        if b & (token::WITH_CONTENT | token::WITH_ATTRIBUTES) != token::WITH_CONTENT {
            return None;
        }
        let tag = Tag::from_token(0, b & 0x3F)?;
        if !matches!(
            tag,
            Tag::Add | Tag::Copy | Tag::Delete | Tag::Get | Tag::Replace
        ) {
            return None;
        }
        let (leaf_at, from, len) = self.leaf_at(at + 1, 0, Tag::CmdId)?;
        self.page = 0;
        self.token_start = at;
        self.pos = at + 1;
        if let Err(e) = self.open() {
            return Some(Err(e));
        }
        let text = match self.read_leaf(leaf_at, from, len) {
            Ok(text) => text,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok((tag, at, text)))
    }

    /// `[SWITCH_PAGE 0] Data ...`: the start (opened as `next_child` opens it), then the
    /// content as `read_data` reads it.
    fn plain_data(&mut self) -> Option<Result<RawData<'a>, DecodeError>> {
        if self.pending_end {
            return None;
        }
        let at = self.next_tag_at(Tag::Data)?;
        self.page = Tag::Data.page() as u8;
        self.token_start = at;
        self.pos = at + 1;
        Some(self.open().and_then(|()| self.read_data()))
    }

    /// `END` of an element with content (no page switch before it), taken as `next_child`
    /// takes it.
    fn plain_end(&mut self) -> bool {
        if self.pending_end || self.depth == 0 || self.input.get(self.pos) != Some(&token::END) {
            return false;
        }
        self.token_start = self.pos;
        self.pos += 1;
        self.depth -= 1;
        true
    }

    /// `[SWITCH_PAGE 0] Meta [Format leaf] [Type leaf] END`, each leaf as `plain_leaf` reads
    /// it: the Meta's start (opened as `next_child` opens it, then `charge` charged), the
    /// leaves and the Meta's end.
    fn plain_meta(&mut self) -> Option<Result<FormatAndType<'a>, DecodeError>> {
        if self.pending_end {
            return None;
        }
        let meta_at = self.next_tag_at(Tag::Meta)?;
        // Where each leaf is, if it is there, and the page in force after each.
        let (mut pos, mut page) = (meta_at + 1, Tag::Meta.page() as u8);
        let mut leaves = [None, None];
        for (slot, tag) in leaves.iter_mut().zip([Tag::Format, Tag::Type]) {
            if let Some((at, from, len)) = self.leaf_at(pos, page, tag) {
                *slot = Some((at, from, len));
                (pos, page) = (from + len + 2, tag.page() as u8);
            }
        }
        if self.input.get(pos) != Some(&token::END) {
            return None;
        }
        // All of it is there: opened and read in the order of a step-by-step read.
        self.token_start = meta_at;
        self.pos = meta_at + 1;
        let read = (|| {
            self.open()?;
            let mut texts = [None, None];
            for (text, leaf) in texts.iter_mut().zip(leaves) {
                if let Some((at, from, len)) = leaf {
                    // (Its end is taken with the Meta's, below.)
                    *text = Some(self.open_with_text(at, from, len)?);
                    self.depth -= 1;
                }
            }
            let [format, type_] = texts;
            Ok((format, type_))
        })();
        self.page = page;
        self.token_start = pos;
        self.pos = pos + 1;
        self.depth -= 1;
        Some(read)
    }

    fn read_data(&mut self) -> Result<RawData<'a>, DecodeError> {
        if let Some(text) = self.plain_string() {
            return text.map(RawData::Text);
        }
        if let Some(bytes) = self.plain_opaque() {
            return Ok(RawData::Opaque(Cow::Borrowed(bytes)));
        }
        let mut text = Cow::Borrowed("");
        // Once OPAQUE is seen the content is octets: text before it and pieces after it join.
        let mut opaque: Option<Cow<'a, [u8]>> = None;
        loop {
            match self.token()? {
                Token::End => {
                    return Ok(match opaque {
                        Some(bytes) => RawData::Opaque(bytes),
                        None => RawData::Text(text),
                    })
                }
                Token::Chars(Chars::Opaque(bytes)) => match &mut opaque {
                    None if text.is_empty() => opaque = Some(Cow::Borrowed(bytes)),
                    None => {
                        let borrowed = matches!(text, Cow::Borrowed(_));
                        self.charge_growth(text.len(), borrowed, bytes.len())?;
                        let mut buf = std::mem::take(&mut text).into_owned().into_bytes();
                        buf.extend_from_slice(bytes);
                        opaque = Some(Cow::Owned(buf));
                    }
                    Some(buf) => {
                        let borrowed = matches!(buf, Cow::Borrowed(_));
                        self.charge_growth(buf.len(), borrowed, bytes.len())?;
                        buf.to_mut().extend_from_slice(bytes);
                    }
                },
                Token::Chars(Chars::Str(s)) => match &mut opaque {
                    Some(buf) => {
                        let piece = self.chars(s)?;
                        let borrowed = matches!(buf, Cow::Borrowed(_));
                        self.charge_growth(buf.len(), borrowed, piece.len())?;
                        buf.to_mut().extend_from_slice(piece.as_bytes());
                    }
                    None => self.push_str(&mut text, s)?,
                },
                Token::Chars(Chars::Entity(code)) => match &mut opaque {
                    Some(buf) => {
                        let mut piece = Cow::Borrowed("");
                        self.push_entity(&mut piece, code)?;
                        let borrowed = matches!(buf, Cow::Borrowed(_));
                        self.charge_growth(buf.len(), borrowed, piece.len())?;
                        buf.to_mut().extend_from_slice(piece.as_bytes());
                    }
                    None => self.push_entity(&mut text, code)?,
                },
                Token::Tag(tag) => return Err(self.misplaced_in_text(tag)),
                Token::Eof => return Err(DecodeError::new(ErrorKind::UnexpectedEof, self.pos)),
            }
        }
    }

    fn skip_to_depth(&mut self, depth: usize) -> Result<(), DecodeError> {
        while self.depth > depth {
            if let Token::Eof = self.token()? {
                return Err(DecodeError::new(ErrorKind::UnexpectedEof, self.pos));
            }
        }
        Ok(())
    }

    fn charge(&mut self, bytes: usize) -> Result<(), DecodeError> {
        self.budget.charge(bytes, self.token_start)
    }

    fn budget_left(&self) -> usize {
        self.budget.left()
    }

    fn likely_commands(&self) -> usize {
        self.input.len().saturating_sub(self.pos) / TYPICAL_COMMAND_OCTETS
    }

    fn depth(&self) -> usize {
        self.depth
    }

    fn offset(&self) -> usize {
        self.pos
    }

    fn finish(&mut self) -> Result<(), DecodeError> {
        if self.pos == self.input.len() {
            Ok(())
        } else {
            Err(DecodeError::new(ErrorKind::TrailingData, self.pos))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Command, DmVersion, Item, ItemCommand, Location, Meta, SyncHdr, SyncMl};

    /// The decode of `input` with the one-step readings, and step by step.
    fn both_ways(input: &[u8], limits: Limits) -> [Result<SyncMl<'_>, DecodeError>; 2] {
        [
            super::super::decode_lenient(input, &limits),
            super::super::decode_lenient_step_by_step(input, &limits),
        ]
    }

    /// A message with locations and leaves of every shape the encoder writes: locations
    /// plain, with a LocName, empty, in Items' Source and Target and as a SourceParent;
    /// Metas of a Format and a Type, of a Type alone, of a command and of an Item, after
    /// the MetInf page and back.
    fn plain_steps() -> Vec<u8> {
        let mut header = SyncHdr::new(
            DmVersion::V1_2,
            "1",
            "2",
            Location::new("IMEI:1"),
            Location::new("https://srv/dm").with_name("srv"),
        );
        let mut meta = Meta::default();
        meta.more_mut().max_msg_size = Some(10_000);
        header.meta = Some(meta);
        let mut copy = Item::target("./b").with_data("x");
        copy.source = Some(Location::new("./a/\u{e9}"));
        copy.source_parent = Some(Box::new(Location::new("")));
        let type_alone = Meta {
            type_: Some("text/TYPE".into()),
            ..Meta::default()
        };
        let items = vec![
            Item::target("./DevInfo/Lang")
                .with_meta(Meta::format_type("chr", "text/plain"))
                .with_data("en"),
            copy,
            Item::target("./c").with_meta(type_alone).with_data("1"),
        ];
        let mut status = crate::model::Status::new("1", "1", "0", "SyncHdr", 212);
        status.target_refs.push("IMEI:1".into());
        status.source_refs.push("https://srv/dm".into());
        let mut replace = ItemCommand::new("4", vec![Item::target("./d").with_data("2")]);
        replace.meta = Some(Box::new(Meta::format_type("int", "text/plain")));
        let message = SyncMl {
            header,
            body: crate::model::SyncBody {
                commands: vec![
                    Command::Status(status),
                    Command::Add(ItemCommand::new("2", items)),
                    Command::Get(ItemCommand::new("3", vec![Item::target("./x")])),
                    Command::Replace(replace),
                ],
                is_final: true,
            },
        };
        super::super::encode(&message)
    }

    /// `input` with its one `Type` leaf of `text/TYPE` replaced by `with`.
    fn splice_type(input: &[u8], with: &[u8]) -> Vec<u8> {
        let old = leaf(Tag::Type, "text/TYPE");
        let at = input
            .windows(old.len())
            .position(|w| w == old)
            .expect("the Type leaf");
        [&input[..at], with, &input[at + old.len()..]].concat()
    }

    /// `tag STR_I text 00 END`, on the page in force.
    fn leaf(tag: Tag, text: &str) -> Vec<u8> {
        let mut out = vec![tag.token() | token::WITH_CONTENT, token::STR_I];
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(&[0, token::END]);
        out
    }

    /// The messages the one-step readings are checked on: [`plain_steps`], and it with a
    /// Meta written as the encoder never writes one (Type before Format, a MetInf that
    /// repeats its Meta's Format or holds what the Meta lacks, a needless page switch, none)
    /// and an Item's children in other orders and pages.
    fn plain_step_messages() -> Vec<Vec<u8>> {
        let input = plain_steps();
        let met_inf = |inside: &[u8]| {
            [
                &[Tag::MetInf.token() | token::WITH_CONTENT][..],
                inside,
                &[token::END],
            ]
            .concat()
        };
        let format_int = leaf(Tag::Format, "int");
        let mut messages = vec![
            input.clone(),
            // Type, then Format: each is read in one step only in its own order.
            splice_type(&input, &[leaf(Tag::Type, "t"), format_int.clone()].concat()),
            // Format, MetInf { Format }: the same Format twice, an error.
            splice_type(&input, &[format_int.clone(), met_inf(&format_int)].concat()),
            // MetInf { Format, Type }: read from the MetInf.
            splice_type(
                &input,
                &met_inf(&[format_int.clone(), leaf(Tag::Type, "u")].concat()),
            ),
            // A switch to the page in force before the Type.
            splice_type(
                &input,
                &[&[token::SWITCH_PAGE, 1][..], &leaf(Tag::Type, "v")].concat(),
            ),
            // No switch to page 1 before it: its token is then an element of page 0,
            // misplaced.
            without_switch_to_type(&input),
            // A Meta of a Format alone, and of nothing but a switch to page 1.
            splice_type(&input, &format_int),
            splice_type(&input, &[]),
        ];
        // The Item of `./c` (Target T, Meta M, Data D) written in other orders.
        let t = [
            &[Tag::Target.token() | token::WITH_CONTENT][..],
            &leaf(Tag::LocUri, "./c"),
            &[token::END],
        ]
        .concat();
        let m = [
            &[
                Tag::Meta.token() | token::WITH_CONTENT,
                token::SWITCH_PAGE,
                1,
            ][..],
            &leaf(Tag::Type, "text/TYPE"),
            &[token::END],
        ]
        .concat();
        let d = leaf(Tag::Data, "1");
        let data = Tag::Data.token() | token::WITH_CONTENT;
        let opaque_d = [data, token::OPAQUE, 1, b'1', token::END];
        let two_strings_d = [
            data,
            token::STR_I,
            b'1',
            0,
            token::STR_I,
            b'2',
            0,
            token::END,
        ];
        let item = |parts: &[&[u8]]| {
            let mut out = vec![Tag::Item.token() | token::WITH_CONTENT];
            parts.iter().for_each(|part| out.extend_from_slice(part));
            out.push(token::END);
            out
        };
        let (sw0, sw1): (&[u8], &[u8]) = (&[token::SWITCH_PAGE, 0], &[token::SWITCH_PAGE, 1]);
        let written = item(&[&t, &m, sw0, &d]);
        let at = input
            .windows(written.len())
            .position(|w| w == written)
            .expect("the Item of ./c");
        let with_item =
            |parts: &[&[u8]]| [&input[..at], &item(parts), &input[at + written.len()..]].concat();
        // The header's SessionID after its MsgID, and twice: the leaves after the first
        // out of order are read as usual (and the second SessionID is a duplicate).
        let session = leaf(Tag::SessionId, "1");
        let msg = leaf(Tag::MsgId, "2");
        let ids = [&session[..], &msg].concat();
        let ids_at = input
            .windows(ids.len())
            .position(|w| w == ids)
            .expect("the header's SessionID and MsgID");
        let with_ids =
            |with: &[u8]| [&input[..ids_at], with, &input[ids_at + ids.len()..]].concat();
        messages.push(with_ids(&[&msg[..], &session].concat()));
        messages.push(with_ids(&[&session[..], &msg, &session].concat()));
        messages.extend([
            // A switch to page 1 before the Target: its token is then no element.
            with_item(&[sw1, &t, &m, sw0, &d]),
            // The Target after the Meta, page 1 still in force: no element either.
            with_item(&[&m, &t, sw0, &d]),
            // The Target after the Meta and a switch back, then the Data on page 0.
            with_item(&[&m, sw0, &t, &d]),
            // Two Targets: the second is a duplicate.
            with_item(&[&t, &t, &m, sw0, &d]),
            // A needless switch to page 0 before the Target.
            with_item(&[sw0, &t, &m, sw0, &d]),
            // The Data as octets, as two strings, and empty without content.
            with_item(&[&t, &m, sw0, &opaque_d]),
            with_item(&[&t, &m, sw0, &two_strings_d]),
            with_item(&[&t, &m, sw0, &[Tag::Data.token()]]),
        ]);
        // The Get's one Item (Target `./x`), the first Item of its command, read with its
        // Target in one step, written in other shapes.
        let x = [
            &[Tag::Target.token() | token::WITH_CONTENT][..],
            &leaf(Tag::LocUri, "./x"),
            &[token::END],
        ]
        .concat();
        let get_item = item(&[&x]);
        let get_at = input
            .windows(get_item.len())
            .position(|w| w == get_item)
            .expect("the Item of ./x");
        let with_get_item =
            |with: &[u8]| [&input[..get_at], with, &input[get_at + get_item.len()..]].concat();
        let named = [
            &[Tag::Target.token() | token::WITH_CONTENT][..],
            &leaf(Tag::LocUri, "./x"),
            &leaf(Tag::LocName, "x"),
            &[token::END],
        ]
        .concat();
        let source = [&[Tag::Source.token() | token::WITH_CONTENT][..], &x[1..]].concat();
        messages.extend([
            // A needless switch to page 0 before the Item.
            with_get_item(&[sw0, &get_item].concat()),
            // A Target with a LocName, a Source before the Target, a Target and a Data.
            with_get_item(&item(&[&named])),
            with_get_item(&item(&[&source, &x])),
            with_get_item(&item(&[&x, &d])),
            // Two Items, the second also led by its Target.
            with_get_item(&[&get_item[..], &get_item].concat()),
        ]);
        // The Get without its CmdID: malformed once its end is read (the record of it
        // charged there).
        let get_start = [
            &[Tag::Get.token() | token::WITH_CONTENT][..],
            &leaf(Tag::CmdId, "3"),
        ]
        .concat();
        let start_at = input
            .windows(get_start.len())
            .position(|w| w == get_start)
            .expect("the Get's CmdID");
        messages.push([&input[..start_at + 1], &input[start_at + get_start.len()..]].concat());
        // The Get after a needless switch to page 0, with NoResp before its CmdID, and
        // again after the Final (misplaced there).
        let get_end = start_at + get_start.len() + get_item.len() + 1;
        assert_eq!(input[get_end - 1], token::END, "the Get's end");
        let get = &input[start_at..get_end];
        messages.push([&input[..start_at], sw0, &input[start_at..]].concat());
        let no_resp = Tag::NoResp.token();
        messages.push([&input[..start_at + 1], &[no_resp], &input[start_at + 1..]].concat());
        let final_at = input
            .windows(3)
            .rposition(|w| w == [Tag::Final.token(), token::END, token::END])
            .expect("the Final");
        messages.push([&input[..final_at + 1], get, &input[final_at + 1..]].concat());
        messages
    }

    /// `input` without the switch to page 1 that its `text/TYPE` leaf follows.
    fn without_switch_to_type(input: &[u8]) -> Vec<u8> {
        let old = [&[token::SWITCH_PAGE, 1][..], &leaf(Tag::Type, "text/TYPE")].concat();
        let at = input
            .windows(old.len())
            .position(|w| w == old)
            .expect("the switch and the Type leaf");
        [&input[..at], &old[2..], &input[at + old.len()..]].concat()
    }

    #[test]
    fn locations_and_leaves_in_one_step_read_as_step_by_step() {
        for input in plain_step_messages() {
            let [one_step, by_step] = both_ways(&input, Limits::default());
            assert_eq!(one_step, by_step);
            // Every octet changed to tokens and values that matter here, and every cut:
            // the same message or the same error at the same offset.
            let values = [
                0x00, 0x01, 0x03, 0x17, 0x47, 0x4B, 0x53, 0x57, 0x83, 0xC3, 0xFF,
            ];
            for at in 0..input.len() {
                for value in values {
                    let mut changed = input.clone();
                    changed[at] = value;
                    let [one_step, by_step] = both_ways(&changed, Limits::default());
                    assert_eq!(one_step, by_step, "octet {at} set to {value:#04x}");
                }
                let [one_step, by_step] = both_ways(&input[..at], Limits::default());
                assert_eq!(one_step, by_step, "cut at {at}");
            }
            // Limits met at a location's LocURI, a leaf, or anywhere: the same error.
            for depth in 1..9 {
                for elements in 1..80 {
                    let limits = Limits {
                        max_depth: depth,
                        max_elements: elements,
                        ..Limits::default()
                    };
                    let [one_step, by_step] = both_ways(&input, limits);
                    assert_eq!(one_step, by_step, "depth {depth}, elements {elements}");
                }
            }
        }
        // The shapes are what they say: the Adds with a repeated Format or Target, with the
        // element of page 0 and with a Target read on page 1 are malformed, the other
        // messages decode whole.
        let decodes: Vec<bool> = plain_step_messages()
            .iter()
            .map(|input| {
                let [one_step, _] = both_ways(input, Limits::default());
                one_step.and_then(crate::strict).is_ok()
            })
            .collect();
        assert_eq!(
            decodes,
            [
                true, true, false, true, true, false, true, true, true, false, false, false, true,
                false, true, true, true, true, true, true, true, true, true, false, true, true,
                false
            ]
        );
    }

    #[test]
    fn the_budget_runs_out_at_the_same_charge_in_one_step_as_step_by_step() {
        let mut charges = Vec::new();
        for input in plain_step_messages() {
            // What a whole decode charges (nothing when the header fails); then every budget
            // short of it.
            let mut source = WbxmlSource::new(&input, Limits::default()).unwrap();
            let full = source.budget_left();
            let _ = crate::parse::parse_message(&mut source);
            let charged = full - source.budget_left();
            charges.push(charged);
            for left in 0..=charged {
                let one_step = WbxmlSource::new(&input, Limits::default())
                    .map(|source| source.with_budget_left(left))
                    .and_then(|mut source| crate::parse::parse_message(&mut source));
                let by_step = super::super::step_by_step::decode_step_by_step_within(&input, left);
                assert_eq!(one_step, by_step, "{left} of {charged} octets");
            }
        }
        // The whole message charges its commands' list and Metas.
        assert!(charges[0] > 1000, "{charges:?}");
    }

    #[test]
    fn a_loc_name_is_charged_as_its_box() {
        // Two messages alike but for the server's LocName (borrowed text: only its box
        // costs memory).
        let charged = |server: Location<'static>| {
            let header = SyncHdr::new(DmVersion::V1_2, "1", "2", Location::new("IMEI:1"), server);
            let input = super::super::encode(&SyncMl {
                header,
                body: crate::model::SyncBody {
                    commands: vec![Command::Get(ItemCommand::new(
                        "1",
                        vec![Item::target("./x")],
                    ))],
                    is_final: true,
                },
            });
            let mut source = WbxmlSource::new(&input, Limits::default()).unwrap();
            let full = source.budget_left();
            let message = crate::parse::parse_message(&mut source).unwrap();
            let name = message.header.source.name().map(str::to_owned);
            (full - source.budget_left(), name)
        };
        let (plain, none) = charged(Location::new("https://srv/dm"));
        let (named, name) = charged(Location::new("https://srv/dm").with_name("srv"));
        assert_eq!((none, name.as_deref()), (None, Some("srv")));
        assert_eq!(named - plain, std::mem::size_of::<Cow<str>>());
    }

    #[test]
    fn a_latin1_location_in_one_step_reads_as_step_by_step() {
        // The same message declared ISO-8859-1 (charset 4): é's octets read as two
        // characters, and owned text is charged to the budget.
        let mut input = plain_steps();
        assert_eq!(input[3], 0x6A, "UTF-8 declared at offset 3");
        input[3] = 0x04;
        let [one_step, by_step] = both_ways(&input, Limits::default());
        let message = one_step.clone().unwrap();
        let Command::Add(add) = &message.body.commands[1] else {
            panic!("{message:?}")
        };
        assert_eq!(add.items[1].source_uri(), Some("./a/\u{c3}\u{a9}"));
        assert_eq!(one_step, by_step);
    }

    #[test]
    fn text_outside_the_input_or_before_the_run_is_checked_alone() {
        // A document whose body starts with a string: `SyncML STR_I "ab" 00 END`.
        let input = [
            0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x03, b'a', b'b', 0x00, 0x01,
        ];
        let mut source = WbxmlSource::new(&input, Limits::default()).unwrap();
        assert_eq!(source.known_utf8(&input[7..9]), Some("ab"));
        assert_eq!(source.valid_from, 7);
        // Octets of no input at all, good and bad: checked alone, the run unchanged.
        let elsewhere = b"\xC3\xA9t\xC3";
        assert_eq!(source.known_utf8(&elsewhere[..3]), Some("\u{e9}t"));
        assert_eq!(source.known_utf8(&elsewhere[3..]), None);
        // Before the run (where a string table lies): alone too.
        assert_eq!(source.known_utf8(&input[1..2]), None);
        assert_eq!(source.known_utf8(&input[3..4]), Some("j"));
        assert_eq!((source.valid_from, source.valid_utf8), (7, "ab\0\u{1}"));
    }

    #[test]
    fn a_run_ends_at_an_opaque_token_and_a_string_past_its_octet_is_checked_alone() {
        // `SyncML STR_I "x" 00, STR_I "café" 00, OPAQUE 2 FF FE, STR_I "ok" 00 END`: é is
        // C3 A9, and C3 is also OPAQUE.
        let mut input = vec![0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x03, b'x', 0x00, 0x03];
        input.extend_from_slice("café".as_bytes());
        input.extend_from_slice(&[0x00, 0xC3, 0x02, 0xFF, 0xFE, 0x03, b'o', b'k', 0x00, 0x01]);
        let mut source = WbxmlSource::new(&input, Limits::default()).unwrap();
        assert_eq!(source.known_utf8(&input[7..8]), Some("x"));
        // The run stops at the first C3, inside "café".
        assert_eq!((source.valid_from, source.valid_utf8), (7, "x\0\u{3}caf"));
        assert_eq!(source.known_utf8(&input[10..15]), Some("café"));
        // The opaque octets are no text; the string after them starts a new run.
        assert_eq!(source.known_utf8(&input[17..19]), None);
        assert_eq!(source.known_utf8(&input[21..23]), Some("ok"));
        assert_eq!((source.valid_from, source.valid_utf8), (21, "ok\0\u{1}"));
    }
}

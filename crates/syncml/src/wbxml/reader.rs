//! WBXML → element stream.
//!
//! Strict about structure (every tag closed, nothing after the root, no attributes, no
//! LITERAL or extension tokens, code pages 0 and 1 only), lenient about what is harmless:
//! any SyncML public identifier whatever the VerDTD inside, the string table's last string
//! unterminated, character data as inline strings, table strings, entities or OPAQUE.

use super::header::{parse_header, read_mb_u32, table_string, token, Charset};
use crate::error::{DecodeError, ErrorKind};
use crate::events::{is_blank, EventSource, RawData, Start};
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

/// Reads one WBXML SyncML document.
pub(crate) struct WbxmlSource<'a> {
    input: &'a [u8],
    pos: usize,
    page: u8,
    charset: Charset,
    string_table: &'a [u8],
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
            limits,
            depth: 0,
            elements: 0,
            pending_end: false,
            token_start: header.body_offset,
            budget: Budget::new(&limits, input.len()),
        })
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
                    let len = rest.iter().position(|&b| b == 0).ok_or_else(|| {
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
                        None => Start::Unknown(ErrorKind::UnknownElement(format!(
                            "token 0x{id:02X} on code page {}",
                            self.page
                        ))),
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

    /// Appends character data, charging it (twice: a growing string's spare capacity) to
    /// the budget first: a string-table entry referenced again and again must not grow text
    /// beyond what the input's size allows.
    fn push_str(&mut self, out: &mut String, bytes: &[u8]) -> Result<(), DecodeError> {
        self.budget.charge(2 * bytes.len(), self.token_start)?;
        match self.charset {
            Charset::Utf8 => out.push_str(
                std::str::from_utf8(bytes).map_err(|_| self.err(ErrorKind::InvalidUtf8))?,
            ),
            Charset::Latin1 => out.extend(bytes.iter().map(|&b| char::from(b))),
        }
        Ok(())
    }

    fn push_entity(&mut self, out: &mut String, code: u32) -> Result<(), DecodeError> {
        self.budget.charge(8, self.token_start)?;
        let c = char::from_u32(code).ok_or_else(|| {
            self.err(ErrorKind::InvalidValue {
                element: "ENTITY",
                value: code.to_string(),
            })
        })?;
        out.push(c);
        Ok(())
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

impl<'a> EventSource for WbxmlSource<'a> {
    fn next_child(&mut self) -> Result<Option<(Start, usize)>, DecodeError> {
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

    fn read_text(&mut self) -> Result<String, DecodeError> {
        let mut text = String::new();
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

    fn read_data(&mut self) -> Result<RawData, DecodeError> {
        let mut text = String::new();
        let mut opaque: Option<Vec<u8>> = None;
        loop {
            match self.token()? {
                Token::End => {
                    return Ok(match opaque {
                        Some(bytes) => RawData::Opaque(bytes),
                        None => RawData::Text(text),
                    })
                }
                Token::Chars(Chars::Opaque(bytes)) => {
                    self.budget.charge(2 * bytes.len(), self.token_start)?;
                    let buf = opaque.get_or_insert_with(|| std::mem::take(&mut text).into_bytes());
                    buf.extend_from_slice(bytes);
                }
                Token::Chars(Chars::Str(s)) => match &mut opaque {
                    Some(buf) => {
                        let mut piece = String::new();
                        self.push_str(&mut piece, s)?;
                        buf.extend_from_slice(piece.as_bytes());
                    }
                    None => self.push_str(&mut text, s)?,
                },
                Token::Chars(Chars::Entity(code)) => match &mut opaque {
                    Some(buf) => {
                        let mut piece = String::new();
                        self.push_entity(&mut piece, code)?;
                        buf.extend_from_slice(piece.as_bytes());
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

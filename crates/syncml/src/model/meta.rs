//! `Meta` (SyncML MetaInfo 1.2, DM subset) and `Chal`.

use std::borrow::Cow;

/// `Meta`: the MetInf elements SyncML DM uses. Its children are in the `syncml:metinf`
/// namespace (WBXML code page 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta<'a> {
    /// `Format`: `chr` (default), `b64`, `bin`, `bool`, `int`, `node`, `null`, `xml`, ...
    pub format: Option<Cow<'a, str>>,
    /// `Type`: a MIME type, an MO identifier, an auth scheme or a generic alert type.
    pub type_: Option<Cow<'a, str>>,
    /// `Mark`: generic alert importance.
    pub mark: Option<Cow<'a, str>>,
    /// `Size`: total size of a large object, in octets.
    pub size: Option<u64>,
    /// `NextNonce`: the nonce to use next (Base64 text, as on the wire).
    pub next_nonce: Option<Cow<'a, str>>,
    /// `Version`.
    pub version: Option<Cow<'a, str>>,
    /// `MaxMsgSize`: the largest message the sender accepts.
    pub max_msg_size: Option<u64>,
    /// `MaxObjSize`: the largest object the sender accepts.
    pub max_obj_size: Option<u64>,
    /// `EMI`: experimental meta information, in order.
    pub emi: Vec<Cow<'a, str>>,
}

impl<'a> Meta<'a> {
    /// Meta with a Format.
    pub fn format(format: impl Into<Cow<'a, str>>) -> Self {
        Meta {
            format: Some(format.into()),
            ..Meta::default()
        }
    }

    /// Meta with a Format and a Type.
    pub fn format_type(format: impl Into<Cow<'a, str>>, type_: impl Into<Cow<'a, str>>) -> Self {
        Meta {
            format: Some(format.into()),
            type_: Some(type_.into()),
            ..Meta::default()
        }
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Meta::default()
    }
}

/// `Chal`: an authentication challenge (Meta Type, Format, NextNonce).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chal<'a> {
    /// The challenge's Meta.
    pub meta: Meta<'a>,
}

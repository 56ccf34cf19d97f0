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
        // Field by field (a default Meta is not built to compare with); the destructuring
        // makes a new field fail to compile here until it is added.
        let Meta {
            format,
            type_,
            mark,
            size,
            next_nonce,
            version,
            max_msg_size,
            max_obj_size,
            emi,
        } = self;
        format.is_none()
            && type_.is_none()
            && mark.is_none()
            && size.is_none()
            && next_nonce.is_none()
            && version.is_none()
            && max_msg_size.is_none()
            && max_obj_size.is_none()
            && emi.is_empty()
    }
}

/// `Chal`: an authentication challenge (Meta Type, Format, NextNonce).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chal<'a> {
    /// The challenge's Meta.
    pub meta: Meta<'a>,
}

#[cfg(test)]
mod tests {
    use super::Meta;

    #[test]
    fn a_meta_is_empty_exactly_when_it_is_the_default() {
        assert!(Meta::default().is_empty());
        let each_field: [fn(&mut Meta<'static>); 9] = [
            |m| m.format = Some("x".into()),
            |m| m.type_ = Some("x".into()),
            |m| m.mark = Some("x".into()),
            |m| m.size = Some(0),
            |m| m.next_nonce = Some("".into()),
            |m| m.version = Some("x".into()),
            |m| m.max_msg_size = Some(1),
            |m| m.max_obj_size = Some(1),
            |m| m.emi.push("x".into()),
        ];
        for set in each_field {
            let mut meta = Meta::default();
            set(&mut meta);
            assert!(!meta.is_empty(), "{meta:?}");
            assert_ne!(meta, Meta::default());
        }
    }
}

//! `Meta` (SyncML MetaInfo 1.2, DM subset) and `Chal`.

use std::borrow::Cow;

/// `Meta`: the MetInf elements SyncML DM uses. Its children are in the `syncml:metinf`
/// namespace (WBXML code page 1).
///
/// Format and Type, what nearly every Meta carries (an Item's always), are held here; the
/// other elements are held in [`Meta::more`], boxed, made when the first of them is set
/// (see [`Meta::more_mut`]). An Item keeps its Meta in place, so that most Items of a
/// message cost no allocation for their Meta.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta<'a> {
    /// `Format`: `chr` (default), `b64`, `bin`, `bool`, `int`, `node`, `null`, `xml`, ...
    pub format: Option<Cow<'a, str>>,
    /// `Type`: a MIME type, an MO identifier, an auth scheme or a generic alert type.
    pub type_: Option<Cow<'a, str>>,
    /// The other MetInf elements, when any is set (an empty box is the same Meta as none:
    /// compare with [`Meta::is_empty`], not `==`).
    pub more: Option<Box<MoreMeta<'a>>>,
}

/// The MetInf elements of a [`Meta`] other than Format and Type: those of a header, a
/// challenge, a large object or a generic alert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoreMeta<'a> {
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

impl MoreMeta<'_> {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        // Field by field; the destructuring makes a new field fail to compile here until it
        // is added.
        let MoreMeta {
            mark,
            size,
            next_nonce,
            version,
            max_msg_size,
            max_obj_size,
            emi,
        } = self;
        mark.is_none()
            && size.is_none()
            && next_nonce.is_none()
            && version.is_none()
            && max_msg_size.is_none()
            && max_obj_size.is_none()
            && emi.is_empty()
    }
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
        let Meta {
            format,
            type_,
            more,
        } = self;
        format.is_none() && type_.is_none() && more.as_deref().is_none_or(MoreMeta::is_empty)
    }

    /// The elements other than Format and Type, made (empty) if there were none: where
    /// they are set.
    pub fn more_mut(&mut self) -> &mut MoreMeta<'a> {
        self.more.get_or_insert_with(Box::default)
    }

    /// `Mark`, if set.
    pub fn mark(&self) -> Option<&str> {
        self.more.as_ref()?.mark.as_deref()
    }

    /// `Size`, if set.
    pub fn size(&self) -> Option<u64> {
        self.more.as_ref()?.size
    }

    /// `NextNonce`, if set.
    pub fn next_nonce(&self) -> Option<&str> {
        self.more.as_ref()?.next_nonce.as_deref()
    }

    /// `Version`, if set.
    pub fn version(&self) -> Option<&str> {
        self.more.as_ref()?.version.as_deref()
    }

    /// `MaxMsgSize`, if set.
    pub fn max_msg_size(&self) -> Option<u64> {
        self.more.as_ref()?.max_msg_size
    }

    /// `MaxObjSize`, if set.
    pub fn max_obj_size(&self) -> Option<u64> {
        self.more.as_ref()?.max_obj_size
    }

    /// `EMI` elements, in order.
    pub fn emi(&self) -> &[Cow<'a, str>] {
        self.more.as_ref().map_or(&[], |more| &more.emi[..])
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
    fn a_meta_is_empty_exactly_when_it_is_the_default_or_its_more_is_empty() {
        assert!(Meta::default().is_empty());
        let mut boxed_empty = Meta::default();
        boxed_empty.more_mut();
        assert!(boxed_empty.is_empty());
        let each_field: [fn(&mut Meta<'static>); 9] = [
            |m| m.format = Some("x".into()),
            |m| m.type_ = Some("x".into()),
            |m| m.more_mut().mark = Some("x".into()),
            |m| m.more_mut().size = Some(0),
            |m| m.more_mut().next_nonce = Some("".into()),
            |m| m.more_mut().version = Some("x".into()),
            |m| m.more_mut().max_msg_size = Some(1),
            |m| m.more_mut().max_obj_size = Some(1),
            |m| m.more_mut().emi.push("x".into()),
        ];
        for set in each_field {
            let mut meta = Meta::default();
            set(&mut meta);
            assert!(!meta.is_empty(), "{meta:?}");
            assert_ne!(meta, Meta::default());
        }
    }

    #[test]
    fn the_accessors_read_what_more_holds_and_nothing_without_it() {
        let mut meta = Meta::default();
        assert_eq!(
            (meta.mark(), meta.size(), meta.next_nonce(), meta.version()),
            (None, None, None, None)
        );
        assert_eq!((meta.max_msg_size(), meta.max_obj_size()), (None, None));
        assert!(meta.emi().is_empty());
        let more = meta.more_mut();
        more.mark = Some("high".into());
        more.size = Some(7);
        more.next_nonce = Some("bm9uY2U=".into());
        more.version = Some("1.2".into());
        more.max_msg_size = Some(8192);
        more.max_obj_size = Some(65536);
        more.emi.push("e".into());
        assert_eq!(
            (meta.mark(), meta.size(), meta.next_nonce(), meta.version()),
            (Some("high"), Some(7), Some("bm9uY2U="), Some("1.2"))
        );
        assert_eq!(
            (meta.max_msg_size(), meta.max_obj_size()),
            (Some(8192), Some(65536))
        );
        assert_eq!(meta.emi(), ["e"]);
    }
}

//! `Item`, `Target`/`Source`, and `Data`.

use std::borrow::Cow;

use super::Meta;

/// `Target`, `Source`, `SourceParent`, `TargetParent`: a URI and an optional display name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location<'a> {
    /// `LocURI`.
    pub loc_uri: Cow<'a, str>,
    /// `LocName`, boxed: DM names few locations (a header's Source: the device's account
    /// name, the server's id), and in a box the name costs every Item's Target and Source
    /// one pointer, not a `Cow` (an `Item` of 176 octets, not 208). Read it with
    /// [`Location::name`].
    pub loc_name: Option<Box<Cow<'a, str>>>,
}

impl<'a> Location<'a> {
    /// A location with only a URI.
    pub fn new(loc_uri: impl Into<Cow<'a, str>>) -> Self {
        Location {
            loc_uri: loc_uri.into(),
            loc_name: None,
        }
    }

    /// This location with `LocName` `name`.
    pub fn with_name(mut self, name: impl Into<Cow<'a, str>>) -> Self {
        self.loc_name = Some(Box::new(name.into()));
        self
    }

    /// `LocName`, if any.
    pub fn name(&self) -> Option<&str> {
        self.loc_name.as_deref().map(|name| &**name)
    }
}

/// `Data`: character data, raw octets, or embedded XML markup.
///
/// - `Text` is character data (XML text, WBXML inline or table strings). With Format `b64`
///   it holds the Base64 text; [`Item::value_bytes`] decodes it.
/// - `Opaque` is WBXML OPAQUE content (binary node values, or text a peer chose to send that
///   way, as libwbxml does for every `Data`). XML cannot carry raw octets: the XML writer
///   writes them as text when they are valid XML characters, and as Base64 otherwise (use
///   [`crate::SyncMl::to_xml_safe`] to also turn the item's Format into `b64`).
/// - `Xml` is markup kept verbatim: XML `Data` with child elements (a TNDS tree, a Windows
///   provisioning document). WBXML carries it as OPAQUE under an effective Format of `xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data<'a> {
    /// Character data.
    Text(Cow<'a, str>),
    /// Raw octets.
    Opaque(Cow<'a, [u8]>),
    /// Embedded XML markup, kept intact.
    Xml(Cow<'a, str>),
}

impl Data<'_> {
    /// The data as octets (UTF-8 for text and markup).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Data::Text(s) | Data::Xml(s) => s.as_bytes(),
            Data::Opaque(b) => b,
        }
    }

    /// The data as text, when it is text or valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::Text(s) | Data::Xml(s) => Some(s),
            Data::Opaque(b) => std::str::from_utf8(b).ok(),
        }
    }

    /// Length in octets.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the data is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> From<&'a str> for Data<'a> {
    fn from(s: &'a str) -> Self {
        Data::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Data<'_> {
    fn from(s: String) -> Self {
        Data::Text(Cow::Owned(s))
    }
}

impl<'a> From<Cow<'a, str>> for Data<'a> {
    fn from(s: Cow<'a, str>) -> Self {
        Data::Text(s)
    }
}

/// `Item` (RepPro §5.1.13): one node operand of a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item<'a> {
    /// `Target`: the node acted on.
    pub target: Option<Location<'a>>,
    /// `Source`: the node read from (Copy, Results, client Replace).
    pub source: Option<Location<'a>>,
    /// `SourceParent` (boxed: rare in DM, and items are moved often).
    pub source_parent: Option<Box<Location<'a>>>,
    /// `TargetParent` (boxed, as SourceParent).
    pub target_parent: Option<Box<Location<'a>>>,
    /// `Meta`, overriding the command's (in place: most Items have one, of a Format and a
    /// Type, which [`Meta`] holds without an allocation).
    pub meta: Option<Meta<'a>>,
    /// `Data`: the value.
    pub data: Option<Data<'a>>,
    /// `MoreData`: another chunk of this object follows.
    pub more_data: bool,
}

impl<'a> Item<'a> {
    /// An item addressing `target`.
    pub fn target(uri: impl Into<Cow<'a, str>>) -> Self {
        Item {
            target: Some(Location::new(uri)),
            ..Item::default()
        }
    }

    /// An item reporting from `source` (Results, client Replace).
    pub fn source(uri: impl Into<Cow<'a, str>>) -> Self {
        Item {
            source: Some(Location::new(uri)),
            ..Item::default()
        }
    }

    /// Sets the data.
    pub fn with_data(mut self, data: impl Into<Data<'a>>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Sets the Meta.
    pub fn with_meta(mut self, meta: Meta<'a>) -> Self {
        self.meta = Some(meta);
        self
    }

    /// The target URI, if any.
    pub fn target_uri(&self) -> Option<&str> {
        self.target.as_ref().map(|l| &*l.loc_uri)
    }

    /// The source URI, if any.
    pub fn source_uri(&self) -> Option<&str> {
        self.source.as_ref().map(|l| &*l.loc_uri)
    }

    /// The value as octets: Base64-decoded when the effective Format (the item's, else
    /// `command_meta`'s) is `b64`. `None` when there is no Data; `Err` when b64 is invalid.
    /// Octets the message carries as they are are borrowed, not copied.
    pub fn value_bytes(
        &self,
        command_meta: Option<&Meta<'_>>,
    ) -> Option<Result<Cow<'_, [u8]>, ()>> {
        let data = self.data.as_ref()?;
        let format = self
            .meta
            .as_ref()
            .and_then(|m| m.format.as_deref())
            .or_else(|| command_meta.and_then(|m| m.format.as_deref()));
        Some(match (format, data) {
            (Some("b64"), Data::Text(s)) => crate::b64::decode(s).map(Cow::Owned).map_err(|_| ()),
            _ => Ok(Cow::Borrowed(data.as_bytes())),
        })
    }
}

//! The Results of a Get of one node, held as the parts the reply repeats ([`NodeResults`]):
//! most Gets name one node and find one value, so that Results is written straight from the
//! value found, with no [`Results`] (its list of Items, an Item) built for it.

use std::borrow::Cow;

use super::{Data, Item, Location, Meta, Results};

/// A Results with one Item: the node's URI as its Source, its Format and Type (left out when
/// they are the defaults, `chr` and `text/plain`), and its value as Data (text when it is
/// UTF-8, else octets; no Data when there is no value). Its CmdID is given as it is written
/// ([`MessageWriter::push_node_results_within`]); [`NodeResults::into_results`] gives the same
/// Results as a [`Results`].
///
/// [`MessageWriter::push_node_results_within`]: crate::MessageWriter::push_node_results_within
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeResults<'a> {
    /// `MsgRef`: MsgID of the message that carried the Get.
    pub msg_ref: &'a str,
    /// `CmdRef`: CmdID of the Get.
    pub cmd_ref: &'a str,
    /// The node's URI: the Item's Source.
    pub uri: Cow<'a, str>,
    /// The node's Format.
    pub format: Cow<'a, str>,
    /// The node's Type (empty: none).
    pub type_: Cow<'a, str>,
    /// The node's value: the Item's Data.
    pub data: Option<Vec<u8>>,
}

impl<'a> NodeResults<'a> {
    /// The Item's Meta: the Format unless `chr`, the Type unless `text/plain` or empty.
    pub fn meta(&self) -> Option<Meta<'a>> {
        let (format, type_) = self.meta_fields();
        (format.is_some() || type_.is_some()).then(|| Meta {
            format: format.map(|_| self.format.clone()),
            type_: type_.map(|_| self.type_.clone()),
            ..Meta::default()
        })
    }

    /// The Format and Type the Item's Meta holds (see [`NodeResults::meta`]).
    pub fn meta_fields(&self) -> (Option<&str>, Option<&str>) {
        let format = (self.format != "chr").then_some(&*self.format);
        let type_ = (self.type_ != "text/plain" && !self.type_.is_empty()).then_some(&*self.type_);
        (format, type_)
    }

    /// The value as the Item's Data, lent: text when it is UTF-8, else octets.
    pub fn data(&self) -> Option<Data<'_>> {
        self.data
            .as_deref()
            .map(|bytes| match std::str::from_utf8(bytes) {
                Ok(text) => Data::Text(Cow::Borrowed(text)),
                Err(_) => Data::Opaque(Cow::Borrowed(bytes)),
            })
    }

    /// The Results' one Item, taking the value.
    pub fn into_item(self) -> Item<'a> {
        let meta = self.meta();
        let data = self.data.map(|bytes| match String::from_utf8(bytes) {
            Ok(text) => Data::Text(text.into()),
            Err(e) => Data::Opaque(e.into_bytes().into()),
        });
        Item {
            source: Some(Location::new(self.uri)),
            meta,
            data,
            ..Item::default()
        }
    }

    /// The same Results as a [`Results`] with no CmdID, taking the value.
    pub fn into_results(self) -> Results<'a> {
        Results {
            cmd_id: Cow::Borrowed(""),
            msg_ref: Some(Cow::Borrowed(self.msg_ref)),
            cmd_ref: Cow::Borrowed(self.cmd_ref),
            meta: None,
            target_ref: None,
            source_ref: None,
            items: vec![self.into_item()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(
        format: &'static str,
        type_: &'static str,
        data: Option<&[u8]>,
    ) -> NodeResults<'static> {
        NodeResults {
            msg_ref: "2",
            cmd_ref: "5",
            uri: "./a/b".into(),
            format: format.into(),
            type_: type_.into(),
            data: data.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn is_the_results_it_stands_for() {
        let results = node("int", "text/plain", Some(b"42")).into_results();
        assert_eq!(
            (
                &*results.cmd_id,
                results.msg_ref.as_deref(),
                &*results.cmd_ref
            ),
            ("", Some("2"), "5")
        );
        assert!(results.meta.is_none() && results.target_ref.is_none());
        assert!(results.source_ref.is_none());
        let [item] = results.items.as_slice() else {
            panic!("{results:?}")
        };
        assert_eq!(item.source_uri(), Some("./a/b"));
        assert!(item.target.is_none() && !item.more_data);
        assert_eq!(item.meta, Some(Meta::format("int")));
        assert_eq!(item.data, Some(Data::Text("42".into())));
    }

    #[test]
    fn leaves_out_the_default_format_and_type() {
        let cases = [
            ("chr", "text/plain", None),
            ("chr", "", None),
            ("node", "", Some(Meta::format("node"))),
            (
                "chr",
                "image/png",
                Some(Meta {
                    type_: Some("image/png".into()),
                    ..Meta::default()
                }),
            ),
            ("b64", "x", Some(Meta::format_type("b64", "x"))),
            // Only the exact defaults are left out.
            (
                "CHR",
                "Text/Plain",
                Some(Meta::format_type("CHR", "Text/Plain")),
            ),
        ];
        for (format, type_, meta) in cases {
            let n = node(format, type_, None);
            assert_eq!(n.meta(), meta, "{format} {type_}");
            assert_eq!(n.clone().into_item().meta, meta);
        }
    }

    #[test]
    fn a_value_is_text_when_it_is_utf8() {
        for (value, data) in [
            (&b""[..], Data::Text("".into())),
            (b"caf\xc3\xa9", Data::Text("caf\u{e9}".into())),
            (b"\xff\x00", Data::Opaque(vec![0xff, 0].into())),
        ] {
            let n = node("chr", "text/plain", Some(value));
            assert_eq!(n.data(), Some(data.clone()));
            assert_eq!(n.into_item().data, Some(data));
        }
        let none = node("node", "", None);
        assert_eq!(none.data(), None);
        assert_eq!(none.into_item().data, None);
    }
}

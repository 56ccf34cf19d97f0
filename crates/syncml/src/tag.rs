//! The element vocabulary of SyncML DM: every element name, the namespace (code page) it
//! belongs to, and its WBXML token.
//!
//! Token values are those of WBXML code page 0 (`SYNCML:SYNCML1.x`) and code page 1
//! (`syncml:metinf`) as listed in the spec digest §4 (checked byte for byte against libwbxml).
//! The same tables serve SyncML 1.1 and 1.2; elements introduced by 1.2 (SourceParent,
//! TargetParent, Correlator) are accepted in 1.1 messages too.

/// The namespace an element lives in, which in WBXML is its code page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    /// Code page 0: `SYNCML:SYNCML1.2` (or `SYNCML:SYNCML1.1`).
    SyncMl = 0,
    /// Code page 1: `syncml:metinf`.
    MetInf = 1,
}

/// XML namespace of MetInf elements.
pub const METINF_NS: &str = "syncml:metinf";

/// The XML start tag of an element of `$page` named `$name`, in the canonical form our writer
/// uses (MetInf elements carry their namespace).
macro_rules! xml_start {
    (SyncMl, $name:expr, $end:expr) => {
        concat!("<", $name, $end)
    };
    (MetInf, $name:expr, $end:expr) => {
        concat!("<", $name, " xmlns=\"syncml:metinf\"", $end)
    };
}

macro_rules! tags {
    ($( $variant:ident = ($page:ident, $token:expr, $name:expr) ),* $(,)?) => {
        /// One SyncML or MetInf element (SyncML RepPro 1.2 / MetaInfo 1.2).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Tag { $( $variant ),* }

        impl Tag {
            /// Every element this crate knows.
            pub const ALL: &'static [Tag] = &[ $( Tag::$variant ),* ];

            /// The element's local name as written in XML.
            pub const fn name(self) -> &'static str {
                match self { $( Tag::$variant => $name ),* }
            }

            /// The namespace (WBXML code page) of the element.
            pub const fn page(self) -> Page {
                match self { $( Tag::$variant => Page::$page ),* }
            }

            /// The XML start tag the writer uses (`<CmdID>`, `<Type xmlns="syncml:metinf">`).
            pub(crate) const fn xml_start(self) -> &'static str {
                match self { $( Tag::$variant => xml_start!($page, $name, ">") ),* }
            }

            /// The XML empty-element tag the writer uses (`<Final/>`).
            pub(crate) const fn xml_empty(self) -> &'static str {
                match self { $( Tag::$variant => xml_start!($page, $name, "/>") ),* }
            }

            /// The XML end tag (`</CmdID>`).
            pub(crate) const fn xml_end(self) -> &'static str {
                match self { $( Tag::$variant => concat!("</", $name, ">") ),* }
            }

            /// The WBXML tag token (without the content/attribute bits).
            pub const fn token(self) -> u8 {
                match self { $( Tag::$variant => $token ),* }
            }

            /// Looks an element up by WBXML code page and token.
            pub fn from_token(page: u8, token: u8) -> Option<Tag> {
                TOKEN_TABLE.get(page as usize)?.get(token as usize).copied().flatten()
            }

            /// Looks an element up by its local name, whatever its namespace (names are
            /// unique across the two code pages).
            pub fn from_name(name: &[u8]) -> Option<Tag> {
                let tag = NAME_TABLE[name_slot(name)]?;
                same_name(tag.name().as_bytes(), name).then_some(tag)
            }
        }
    };
}

tags! {
    Add = (SyncMl, 0x05, "Add"),
    Alert = (SyncMl, 0x06, "Alert"),
    Archive = (SyncMl, 0x07, "Archive"),
    Atomic = (SyncMl, 0x08, "Atomic"),
    Chal = (SyncMl, 0x09, "Chal"),
    Cmd = (SyncMl, 0x0A, "Cmd"),
    CmdId = (SyncMl, 0x0B, "CmdID"),
    CmdRef = (SyncMl, 0x0C, "CmdRef"),
    Copy = (SyncMl, 0x0D, "Copy"),
    Cred = (SyncMl, 0x0E, "Cred"),
    Data = (SyncMl, 0x0F, "Data"),
    Delete = (SyncMl, 0x10, "Delete"),
    Exec = (SyncMl, 0x11, "Exec"),
    Final = (SyncMl, 0x12, "Final"),
    Get = (SyncMl, 0x13, "Get"),
    Item = (SyncMl, 0x14, "Item"),
    Lang = (SyncMl, 0x15, "Lang"),
    LocName = (SyncMl, 0x16, "LocName"),
    LocUri = (SyncMl, 0x17, "LocURI"),
    Map = (SyncMl, 0x18, "Map"),
    MapItem = (SyncMl, 0x19, "MapItem"),
    Meta = (SyncMl, 0x1A, "Meta"),
    MsgId = (SyncMl, 0x1B, "MsgID"),
    MsgRef = (SyncMl, 0x1C, "MsgRef"),
    NoResp = (SyncMl, 0x1D, "NoResp"),
    NoResults = (SyncMl, 0x1E, "NoResults"),
    Put = (SyncMl, 0x1F, "Put"),
    Replace = (SyncMl, 0x20, "Replace"),
    RespUri = (SyncMl, 0x21, "RespURI"),
    Results = (SyncMl, 0x22, "Results"),
    Search = (SyncMl, 0x23, "Search"),
    Sequence = (SyncMl, 0x24, "Sequence"),
    SessionId = (SyncMl, 0x25, "SessionID"),
    SftDel = (SyncMl, 0x26, "SftDel"),
    Source = (SyncMl, 0x27, "Source"),
    SourceRef = (SyncMl, 0x28, "SourceRef"),
    Status = (SyncMl, 0x29, "Status"),
    Sync = (SyncMl, 0x2A, "Sync"),
    SyncBody = (SyncMl, 0x2B, "SyncBody"),
    SyncHdr = (SyncMl, 0x2C, "SyncHdr"),
    SyncMl = (SyncMl, 0x2D, "SyncML"),
    Target = (SyncMl, 0x2E, "Target"),
    TargetRef = (SyncMl, 0x2F, "TargetRef"),
    VerDtd = (SyncMl, 0x31, "VerDTD"),
    VerProto = (SyncMl, 0x32, "VerProto"),
    NumberOfChanges = (SyncMl, 0x33, "NumberOfChanges"),
    MoreData = (SyncMl, 0x34, "MoreData"),
    Field = (SyncMl, 0x35, "Field"),
    Filter = (SyncMl, 0x36, "Filter"),
    Record = (SyncMl, 0x37, "Record"),
    FilterType = (SyncMl, 0x38, "FilterType"),
    SourceParent = (SyncMl, 0x39, "SourceParent"),
    TargetParent = (SyncMl, 0x3A, "TargetParent"),
    Move = (SyncMl, 0x3B, "Move"),
    Correlator = (SyncMl, 0x3C, "Correlator"),
    Anchor = (MetInf, 0x05, "Anchor"),
    Emi = (MetInf, 0x06, "EMI"),
    Format = (MetInf, 0x07, "Format"),
    FreeId = (MetInf, 0x08, "FreeID"),
    FreeMem = (MetInf, 0x09, "FreeMem"),
    Last = (MetInf, 0x0A, "Last"),
    Mark = (MetInf, 0x0B, "Mark"),
    MaxMsgSize = (MetInf, 0x0C, "MaxMsgSize"),
    Mem = (MetInf, 0x0D, "Mem"),
    MetInf = (MetInf, 0x0E, "MetInf"),
    Next = (MetInf, 0x0F, "Next"),
    NextNonce = (MetInf, 0x10, "NextNonce"),
    SharedMem = (MetInf, 0x11, "SharedMem"),
    Size = (MetInf, 0x12, "Size"),
    Type = (MetInf, 0x13, "Type"),
    Version = (MetInf, 0x14, "Version"),
    MaxObjSize = (MetInf, 0x15, "MaxObjSize"),
    FieldLevel = (MetInf, 0x16, "FieldLevel"),
}

/// Seed of the name hash, chosen so that the 73 names fall into distinct slots (the table
/// below fails to compile otherwise).
const NAME_HASH_SEED: u32 = 804;

/// Hash of an element name into one of 512 slots, from its length and its first, middle
/// and last octets (which tell the 73 names apart): a few operations whatever the name's
/// length. The slot's name is then compared in full.
const fn name_slot(name: &[u8]) -> usize {
    let len = name.len();
    if len == 0 {
        return 0;
    }
    let mut h = (NAME_HASH_SEED ^ len as u32).wrapping_mul(0x9E37_79B1);
    h = (h ^ name[0] as u32).wrapping_mul(0x0100_0193);
    h = (h ^ name[len / 2] as u32).wrapping_mul(0x0100_0193);
    h = (h ^ name[len - 1] as u32).wrapping_mul(0x0100_0193);
    (h >> 23) as usize
}

/// Whether two element names are equal: compared as two overlapping words when they are
/// 4 to 16 octets long (every SyncML name but `Add`, `Cmd`, `Get`, `Map`, `Put`, `Mem`),
/// shorter than a call to `memcmp`; longer names fall back to it.
pub(crate) fn same_name(a: &[u8], b: &[u8]) -> bool {
    fn word4(s: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]])
    }
    fn word8(s: &[u8], at: usize) -> u64 {
        let mut w = [0; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0..=3 => a == b,
        4..=8 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        9..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

/// Name slot → element: one hash and one comparison per element name read.
static NAME_TABLE: [Option<Tag>; 512] = {
    let mut table = [None; 512];
    let mut i = 0;
    while i < Tag::ALL.len() {
        let tag = Tag::ALL[i];
        let slot = name_slot(tag.name().as_bytes());
        assert!(
            table[slot].is_none(),
            "element name hash collision: change NAME_HASH_SEED"
        );
        table[slot] = Some(tag);
        i += 1;
    }
    table
};

/// `[page][token]` → element, built at compile time from [`Tag::ALL`].
static TOKEN_TABLE: [[Option<Tag>; 64]; 2] = {
    let mut table = [[None; 64]; 2];
    let mut i = 0;
    while i < Tag::ALL.len() {
        let tag = Tag::ALL[i];
        table[tag.page() as usize][tag.token() as usize] = Some(tag);
        i += 1;
    }
    table
};

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag_round_trips_through_its_token_and_its_name() {
        for &tag in Tag::ALL {
            assert_eq!(Tag::from_token(tag.page() as u8, tag.token()), Some(tag));
            assert_eq!(Tag::from_name(tag.name().as_bytes()), Some(tag));
        }
    }

    #[test]
    fn tokens_match_the_digest_table() {
        assert_eq!(Tag::SyncMl.token(), 0x2D);
        assert_eq!(Tag::Correlator.token(), 0x3C);
        assert_eq!(Tag::VerDtd.token(), 0x31);
        assert_eq!(Tag::Format.token(), 0x07);
        assert_eq!(Tag::MaxObjSize.token(), 0x15);
        assert_eq!(Tag::from_token(0, 0x30), None, "0x30 is reserved on page 0");
    }

    #[test]
    fn names_compare_equal_exactly_when_their_octets_do() {
        let names: Vec<Vec<u8>> = (0..=20)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
                // The name itself, and each one-octet change of it.
                let mut variants = vec![base.clone()];
                for at in 0..n {
                    let mut v = base.clone();
                    v[at] ^= 0x20;
                    variants.push(v);
                }
                variants
            })
            .collect();
        for a in &names {
            for b in &names {
                assert_eq!(same_name(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn names_that_are_not_elements_are_not_found() {
        for name in [
            "", "add", "ADD", "SyncMLx", "Synchdr", "Data ", "\u{e9}", "MetInfo",
        ] {
            assert_eq!(Tag::from_name(name.as_bytes()), None, "{name:?}");
        }
    }

    #[test]
    fn names_are_unique_across_pages() {
        for &a in Tag::ALL {
            for &b in Tag::ALL {
                if a != b {
                    assert_ne!(a.name(), b.name());
                }
            }
        }
    }
}

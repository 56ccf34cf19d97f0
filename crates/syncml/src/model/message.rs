//! The message envelope: `SyncML`, `SyncHdr`, `SyncBody`, and the header's credentials.

use std::borrow::Cow;

use super::{Command, Location, Meta};

/// The two protocol dialects this stack speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DmVersion {
    /// OMA DM 1.1.2: namespace `SYNCML:SYNCML1.1`, VerDTD `1.1`, VerProto `DM/1.1`.
    V1_1,
    /// OMA DM 1.2: namespace `SYNCML:SYNCML1.2`, VerDTD `1.2`, VerProto `DM/1.2`.
    V1_2,
}

impl DmVersion {
    /// The VerDTD value.
    pub fn ver_dtd(self) -> &'static str {
        match self {
            DmVersion::V1_1 => "1.1",
            DmVersion::V1_2 => "1.2",
        }
    }

    /// The VerProto value.
    pub fn ver_proto(self) -> &'static str {
        match self {
            DmVersion::V1_1 => "DM/1.1",
            DmVersion::V1_2 => "DM/1.2",
        }
    }

    /// The XML namespace of the root element.
    pub fn namespace(self) -> &'static str {
        match self {
            DmVersion::V1_1 => "SYNCML:SYNCML1.1",
            DmVersion::V1_2 => "SYNCML:SYNCML1.2",
        }
    }

    /// The registered WBXML public identifier (SyncML 1.1: 0x0FD3, SyncML 1.2: 0x1201).
    pub fn wbxml_public_id(self) -> u32 {
        match self {
            DmVersion::V1_1 => 0x0FD3,
            DmVersion::V1_2 => 0x1201,
        }
    }

    /// The dialect a VerDTD value names, if any.
    pub fn from_ver_dtd(ver_dtd: &str) -> Option<DmVersion> {
        match ver_dtd.trim() {
            "1.1" => Some(DmVersion::V1_1),
            "1.2" => Some(DmVersion::V1_2),
            _ => None,
        }
    }
}

/// A whole SyncML DM message (`<SyncML>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncMl<'a> {
    /// The header.
    pub header: SyncHdr<'a>,
    /// The body.
    pub body: SyncBody<'a>,
}

impl SyncMl<'_> {
    /// The dialect named by the header's VerDTD; `None` for a version this stack does not speak.
    pub fn version(&self) -> Option<DmVersion> {
        DmVersion::from_ver_dtd(&self.header.ver_dtd)
    }
}

/// `<SyncHdr>` (RepPro §5.2.1): the message's routing, identity and credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncHdr<'a> {
    /// `VerDTD`: `1.2` or `1.1`.
    pub ver_dtd: Cow<'a, str>,
    /// `VerProto`: `DM/1.2` or `DM/1.1`.
    pub ver_proto: Cow<'a, str>,
    /// `SessionID`, the same in every message of a session.
    pub session_id: Cow<'a, str>,
    /// `MsgID`, the sender's message number.
    pub msg_id: Cow<'a, str>,
    /// `Target`: the recipient.
    pub target: Location<'a>,
    /// `Source`: the sender (`LocName` carries the MD5 auth name).
    pub source: Location<'a>,
    /// `RespURI`: where the next message of the session goes.
    pub resp_uri: Option<Cow<'a, str>>,
    /// `NoResp`: the sender wants no Status for this message.
    pub no_resp: bool,
    /// `Cred`: the sender's credentials.
    pub cred: Option<Cred<'a>>,
    /// `Meta`: MaxMsgSize, MaxObjSize, EMI.
    pub meta: Option<Meta<'a>>,
}

impl<'a> SyncHdr<'a> {
    /// A header for `version` with the given session, message number and addresses.
    pub fn new(
        version: DmVersion,
        session_id: impl Into<Cow<'a, str>>,
        msg_id: impl Into<Cow<'a, str>>,
        target: Location<'a>,
        source: Location<'a>,
    ) -> Self {
        SyncHdr {
            ver_dtd: Cow::Borrowed(version.ver_dtd()),
            ver_proto: Cow::Borrowed(version.ver_proto()),
            session_id: session_id.into(),
            msg_id: msg_id.into(),
            target,
            source,
            resp_uri: None,
            no_resp: false,
            cred: None,
            meta: None,
        }
    }
}

/// `<Cred>`: credentials (Meta Type names the scheme, Data carries the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cred<'a> {
    /// Type (`syncml:auth-basic`, `syncml:auth-md5`, ...) and Format (`b64`).
    pub meta: Option<Meta<'a>>,
    /// The credential value.
    pub data: Cow<'a, str>,
}

/// `<SyncBody>`: the commands, and `Final` on the last message of a package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncBody<'a> {
    /// The commands in document order.
    pub commands: Vec<Command<'a>>,
    /// `<Final/>`: this message ends the sender's package.
    pub is_final: bool,
}

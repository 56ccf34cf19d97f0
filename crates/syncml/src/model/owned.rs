//! Detaching a message from the input it was decoded from: `into_owned` on every model type
//! copies the text it borrows, for a message kept after its input buffer is gone (a reply
//! held over to the next message, a server's record of a session).

use std::borrow::Cow;

use super::*;

/// The text, owned.
pub(crate) fn own(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

fn own_opt(text: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    text.map(own)
}

fn own_items(items: Vec<Item<'_>>) -> Vec<Item<'static>> {
    items.into_iter().map(Item::into_owned).collect()
}

fn own_meta(meta: Option<Box<Meta<'_>>>) -> Option<Box<Meta<'static>>> {
    meta.map(|m| Box::new(m.into_owned()))
}

fn own_cred(cred: Option<Box<Cred<'_>>>) -> Option<Box<Cred<'static>>> {
    cred.map(|c| Box::new(c.into_owned()))
}

impl Location<'_> {
    /// This location with its text owned.
    pub fn into_owned(self) -> Location<'static> {
        Location {
            loc_uri: own(self.loc_uri),
            loc_name: self.loc_name.map(|name| Box::new(own(*name))),
        }
    }
}

impl Data<'_> {
    /// This data with its content owned.
    pub fn into_owned(self) -> Data<'static> {
        match self {
            Data::Text(t) => Data::Text(own(t)),
            Data::Opaque(b) => Data::Opaque(Cow::Owned(b.into_owned())),
            Data::Xml(t) => Data::Xml(own(t)),
        }
    }
}

impl Meta<'_> {
    /// This Meta with its text owned.
    pub fn into_owned(self) -> Meta<'static> {
        Meta {
            format: own_opt(self.format),
            type_: own_opt(self.type_),
            more: self.more.map(|more| Box::new(more.into_owned())),
        }
    }
}

impl MoreMeta<'_> {
    /// These elements with their text owned.
    pub fn into_owned(self) -> MoreMeta<'static> {
        MoreMeta {
            mark: own_opt(self.mark),
            size: self.size,
            next_nonce: own_opt(self.next_nonce),
            version: own_opt(self.version),
            max_msg_size: self.max_msg_size,
            max_obj_size: self.max_obj_size,
            emi: self.emi.into_iter().map(own).collect(),
        }
    }
}

impl Chal<'_> {
    /// This challenge with its text owned.
    pub fn into_owned(self) -> Chal<'static> {
        Chal {
            meta: self.meta.into_owned(),
        }
    }
}

impl Cred<'_> {
    /// These credentials with their text owned.
    pub fn into_owned(self) -> Cred<'static> {
        Cred {
            meta: self.meta.map(Meta::into_owned),
            data: own(self.data),
        }
    }
}

impl Item<'_> {
    /// This item with its text owned.
    pub fn into_owned(self) -> Item<'static> {
        Item {
            target: self.target.map(Location::into_owned),
            source: self.source.map(Location::into_owned),
            source_parent: self.source_parent.map(|l| Box::new(l.into_owned())),
            target_parent: self.target_parent.map(|l| Box::new(l.into_owned())),
            meta: self.meta.map(Meta::into_owned),
            data: self.data.map(Data::into_owned),
            more_data: self.more_data,
        }
    }
}

impl ItemCommand<'_> {
    /// This command with its text owned.
    pub fn into_owned(self) -> ItemCommand<'static> {
        ItemCommand {
            cmd_id: own(self.cmd_id),
            no_resp: self.no_resp,
            cred: own_cred(self.cred),
            meta: own_meta(self.meta),
            items: self.items.into_owned(),
        }
    }
}

impl Alert<'_> {
    /// This alert with its text owned.
    pub fn into_owned(self) -> Alert<'static> {
        Alert {
            cmd_id: own(self.cmd_id),
            no_resp: self.no_resp,
            cred: own_cred(self.cred),
            data: own_opt(self.data),
            correlator: own_opt(self.correlator),
            items: own_items(self.items),
        }
    }
}

impl Exec<'_> {
    /// This Exec with its text owned.
    pub fn into_owned(self) -> Exec<'static> {
        Exec {
            cmd_id: own(self.cmd_id),
            no_resp: self.no_resp,
            cred: own_cred(self.cred),
            meta: own_meta(self.meta),
            correlator: own_opt(self.correlator),
            items: own_items(self.items),
        }
    }
}

impl Container<'_> {
    /// This container with its text owned.
    pub fn into_owned(self) -> Container<'static> {
        Container {
            cmd_id: own(self.cmd_id),
            no_resp: self.no_resp,
            meta: own_meta(self.meta),
            commands: self.commands.into_iter().map(Command::into_owned).collect(),
        }
    }
}

impl Status<'_> {
    /// This status with its text owned.
    pub fn into_owned(self) -> Status<'static> {
        Status {
            cmd_id: own(self.cmd_id),
            msg_ref: own(self.msg_ref),
            cmd_ref: own(self.cmd_ref),
            cmd: own(self.cmd),
            target_refs: self.target_refs.into_owned(),
            source_refs: self.source_refs.into_owned(),
            cred: own_cred(self.cred),
            chal: self.chal.map(|c| Box::new(c.into_owned())),
            data: own(self.data),
            items: own_items(self.items),
        }
    }
}

impl Results<'_> {
    /// These results with their text owned.
    pub fn into_owned(self) -> Results<'static> {
        Results {
            cmd_id: own(self.cmd_id),
            msg_ref: own_opt(self.msg_ref),
            cmd_ref: own(self.cmd_ref),
            meta: own_meta(self.meta),
            target_ref: own_opt(self.target_ref),
            source_ref: own_opt(self.source_ref),
            items: own_items(self.items),
        }
    }
}

impl Malformed<'_> {
    /// This record with its text owned.
    pub fn into_owned(self) -> Malformed<'static> {
        Malformed {
            element: self.element,
            cmd_id: own_opt(self.cmd_id),
            error: self.error,
        }
    }
}

impl Command<'_> {
    /// This command with its text owned.
    pub fn into_owned(self) -> Command<'static> {
        match self {
            Command::Add(c) => Command::Add(c.into_owned()),
            Command::Alert(c) => Command::Alert(c.into_owned()),
            Command::Atomic(c) => Command::Atomic(c.into_owned()),
            Command::Copy(c) => Command::Copy(c.into_owned()),
            Command::Delete(c) => Command::Delete(c.into_owned()),
            Command::Exec(c) => Command::Exec(c.into_owned()),
            Command::Get(c) => Command::Get(c.into_owned()),
            Command::Replace(c) => Command::Replace(c.into_owned()),
            Command::Sequence(c) => Command::Sequence(c.into_owned()),
            Command::Status(c) => Command::Status(c.into_owned()),
            Command::Results(c) => Command::Results(c.into_owned()),
            Command::Malformed(c) => Command::Malformed(c.into_owned()),
        }
    }
}

impl SyncHdr<'_> {
    /// This header with its text owned.
    pub fn into_owned(self) -> SyncHdr<'static> {
        SyncHdr {
            ver_dtd: own(self.ver_dtd),
            ver_proto: own(self.ver_proto),
            session_id: own(self.session_id),
            msg_id: own(self.msg_id),
            target: self.target.into_owned(),
            source: self.source.into_owned(),
            resp_uri: own_opt(self.resp_uri),
            no_resp: self.no_resp,
            cred: self.cred.map(Cred::into_owned),
            meta: self.meta.map(Meta::into_owned),
        }
    }
}

impl SyncBody<'_> {
    /// This body with its text owned.
    pub fn into_owned(self) -> SyncBody<'static> {
        SyncBody {
            commands: self.commands.into_iter().map(Command::into_owned).collect(),
            is_final: self.is_final,
        }
    }
}

impl SyncMl<'_> {
    /// This message with its text owned: independent of the input it was decoded from.
    pub fn into_owned(self) -> SyncMl<'static> {
        SyncMl {
            header: self.header.into_owned(),
            body: self.body.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_owned_message_equals_the_borrowed_one_and_outlives_its_input() {
        let owned = {
            let input = br#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>dev</LocURI></Target><Source><LocURI>srv</LocURI></Source><Meta><MaxMsgSize xmlns="syncml:metinf">9000</MaxMsgSize></Meta></SyncHdr><SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>srv</TargetRef><Chal><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><NextNonce xmlns="syncml:metinf">AAE=</NextNonce></Meta></Chal><Data>212</Data></Status><Replace><CmdID>2</CmdID><Item><Target><LocURI>./a&amp;b</LocURI></Target><Data>x</Data></Item></Replace><Final/></SyncBody></SyncML>"#.to_vec();
            let (borrowed, _) = crate::decode(&input, &crate::Limits::DEFAULT).unwrap();
            let owned = borrowed.clone().into_owned();
            assert_eq!(owned, borrowed);
            owned
        };
        assert_eq!(owned.body.commands.len(), 2);
        assert_eq!(
            owned.body.commands[1].items()[0].target_uri(),
            Some("./a&b")
        );
    }
}

//! Receiving large objects (DM Protocol §2.2 / RepPro 1.2 §7): one Item's Data split over
//! several messages, every chunk but the last marked MoreData, the first carrying Meta Size.
//!
//! Each chunk is answered 213; after the last, the data is compared with the announced Size
//! (424 on a mismatch, nothing executed) and the command runs once with the whole value. An
//! object over this client's MaxObjSize is refused with 413 at its first chunk, and a first
//! chunk that does not announce its Size with 411. A new command
//! arriving before the last chunk abandons the object with Alert 1225. Only single-Item Add and
//! Replace can carry a large object; MoreData elsewhere is answered 400.

use std::borrow::Cow;

use omadm_syncml::{Alert, Command, Data, Item, ItemCommand, Meta, Status};

/// What to do with a command; responses borrow from the command offered (`'c`).
pub(crate) enum Offer<'c> {
    /// Not part of a large object: execute it.
    Pass,
    /// A chunk was taken (or refused): only these responses.
    Respond(Vec<Command<'c>>),
    /// The object is complete: execute `command` (with the whole value, owned: it was
    /// assembled from several messages) after `extra`.
    Complete {
        command: Box<Command<'static>>,
        extra: Vec<Command<'c>>,
    },
}

struct Pending {
    name: &'static str,
    target: String,
    template: ItemCommand<'static>,
    data: Vec<u8>,
    declared: Option<u64>,
}

/// The large object being received, if any.
pub(crate) struct Assembler {
    max_obj_size: u64,
    pending: Option<Pending>,
}

fn chunk_of<'c, 'm>(command: &'c Command<'m>) -> Option<(&'static str, &'c ItemCommand<'m>)> {
    match command {
        Command::Add(c) => Some(("Add", c)),
        Command::Replace(c) => Some(("Replace", c)),
        _ => None,
    }
}

/// Execute `command` as it is, after `extra` responses if there are any.
fn pass_after<'c>(command: &Command<'_>, extra: Vec<Command<'c>>) -> Offer<'c> {
    if extra.is_empty() {
        Offer::Pass
    } else {
        Offer::Complete {
            command: Box::new(command.clone().into_owned()),
            extra,
        }
    }
}

fn status<'c>(msg_ref: &'c str, c: &'c ItemCommand<'_>, name: &'c str, code: u16) -> Command<'c> {
    let mut s = Status::new("", msg_ref, &*c.cmd_id, name, code);
    s.target_refs = c
        .items
        .iter()
        .filter_map(|i| i.target_uri().map(Cow::Borrowed))
        .collect();
    Command::Status(s)
}

impl Assembler {
    pub(crate) fn new(max_obj_size: u64) -> Self {
        Assembler {
            max_obj_size,
            pending: None,
        }
    }

    pub(crate) fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    fn abandon(&mut self) -> Vec<Command<'static>> {
        match self.pending.take() {
            None => Vec::new(),
            Some(p) => {
                log::warn!(
                    "large object for {} abandoned before its last chunk",
                    p.target
                );
                let mut alert = Alert::new("", 1225);
                alert.items.push(Item::target(p.target));
                vec![Command::Alert(alert)]
            }
        }
    }

    pub(crate) fn offer<'c>(&mut self, command: &'c Command<'_>, msg_ref: &'c str) -> Offer<'c> {
        // Nearly every command: no object being received, and no item marked MoreData
        // (those that are, the rules below judge).
        if self.pending.is_none() && !command.items().iter().any(|i| i.more_data) {
            return Offer::Pass;
        }
        let Some((name, c)) = chunk_of(command) else {
            let mut extra = self.abandon();
            if let Command::Copy(c) | Command::Delete(c) | Command::Get(c) = command {
                if c.items.iter().any(|i| i.more_data) {
                    extra.push(status(msg_ref, c, command.name(), 400));
                    return Offer::Respond(extra);
                }
            }
            return pass_after(command, extra);
        };
        let more = c.items.iter().any(|i| i.more_data);
        let continues = matches!(&self.pending, Some(p) if p.name == name && c.items.len() == 1 && c.items[0].target_uri() == Some(p.target.as_str()));
        if !continues {
            let extra = self.abandon();
            if !more {
                return pass_after(command, extra);
            }
            if c.items.len() != 1 || c.items[0].target_uri().is_none() {
                let mut out = extra;
                out.push(status(msg_ref, c, name, 400));
                return Offer::Respond(out);
            }
            let item = &c.items[0];
            let declared = item
                .meta
                .as_ref()
                .and_then(Meta::size)
                .or_else(|| c.meta.as_deref().and_then(Meta::size));
            if declared.is_none() {
                // The first chunk must announce the object's size.
                let mut out = extra;
                out.push(status(msg_ref, c, name, 411));
                return Offer::Respond(out);
            }
            if declared.is_some_and(|size| size > self.max_obj_size) {
                let mut out = extra;
                out.push(status(msg_ref, c, name, 413));
                return Offer::Respond(out);
            }
            self.pending = Some(Pending {
                name,
                target: item.target_uri().unwrap_or_default().to_owned(),
                template: c.clone().into_owned(),
                data: item
                    .data
                    .as_ref()
                    .map(|d| d.as_bytes().to_vec())
                    .unwrap_or_default(),
                declared,
            });
            let mut out = extra;
            out.push(status(msg_ref, c, name, 213));
            return Offer::Respond(out);
        }
        let pending = self.pending.as_mut().expect("continues");
        if let Some(d) = &c.items[0].data {
            pending.data.extend_from_slice(d.as_bytes());
        }
        if pending.data.len() as u64 > self.max_obj_size {
            self.pending = None;
            return Offer::Respond(vec![status(msg_ref, c, name, 413)]);
        }
        if more {
            return Offer::Respond(vec![status(msg_ref, c, name, 213)]);
        }
        let p = self.pending.take().expect("continues");
        if let Some(size) = p.declared {
            if size != p.data.len() as u64 {
                log::warn!(
                    "large object for {}: {} octets received, Size said {size}",
                    p.target,
                    p.data.len()
                );
                return Offer::Respond(vec![status(msg_ref, c, name, 424)]);
            }
        }
        let mut whole = p.template;
        whole.cmd_id = Cow::Owned(c.cmd_id.to_string());
        whole.items[0].more_data = false;
        whole.items[0].data = Some(match String::from_utf8(p.data) {
            Ok(text) => Data::Text(text.into()),
            Err(e) => Data::Opaque(e.into_bytes().into()),
        });
        let command = if name == "Add" {
            Command::Add(whole)
        } else {
            Command::Replace(whole)
        };
        Offer::Complete {
            command: Box::new(command),
            extra: Vec::new(),
        }
    }
}

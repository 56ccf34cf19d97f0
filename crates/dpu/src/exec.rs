//! Executing the server's commands through the Configuration Manager and turning each outcome
//! into Status (and Results for Get).
//!
//! Decisions where the specifications leave room (documented in the crate docs too):
//! - Statuses: one per command, listing every item's TargetRef, when all items share a code;
//!   otherwise one per item.
//! - Atomic: stops at the first failure and rolls back; commands that had succeeded get 216,
//!   the failing one keeps its code, the ones not reached get 215, the Atomic gets 507 (516
//!   when the rollback itself failed). Get, Exec, Sequence and a nested Atomic inside an
//!   Atomic are refused with 500 (and so fail it). Add followed by Replace of the same node in
//!   one Atomic is allowed (the Manager applies both in order).
//! - Sequence: runs in order; a failed command stops it and the rest get 215 (as the Motorola
//!   client does; the DM text mandates 215 only after a user cancel). The Sequence gets 200.
//! - User-interaction alerts (1100–1104) with no UI attached get 406; other alerts a client
//!   does not handle get 406 too.
//! - A command that could not be decoded gets 400 (406 for SyncML commands DM does not use:
//!   Sync, Map, Put, Search, Move), with its CmdID when it had one.

use std::borrow::Cow;

use omadm_cm::{CmError, ExecOutcome, LeafValue, Manager, NewNode, Principal, ResultItem};

use crate::response::Response;
use crate::ui::{parse_options, UiKind, UiRequest, UiResponse, UserInterface};
use omadm_syncml::{
    Alert, Command, Container, Data, Exec as ExecCmd, Item, ItemCommand, ItemStatus, Malformed,
    Meta, NodeResults, Results, Status,
};

/// The codes a command ends with, for container bookkeeping.
pub(crate) fn is_success(code: u16) -> bool {
    (200..300).contains(&code)
}

/// Runs commands against the Manager for one server message.
pub(crate) struct Executor<'a, 'm> {
    pub cm: &'a mut Manager,
    pub who: &'a Principal,
    /// The MsgID of the server's message, repeated in every Status (borrowed from it).
    pub msg_ref: &'m str,
    pub ui: Option<&'a mut (dyn UserInterface + 'static)>,
    pub server_name: &'a str,
    /// The user cancelled an alert: the rest of the message is not executed (215).
    pub cancelled: bool,
}

/// A Status with nothing but its references and code.
fn status<'c>(msg_ref: &'c str, cmd_ref: &'c str, cmd: &'c str, code: u16) -> Response<'c> {
    Response::Status(ItemStatus {
        msg_ref,
        cmd_ref,
        cmd,
        items: &[],
        code,
    })
}

fn effective_meta<'m>(
    item: &'m Item<'_>,
    command: Option<&'m Meta<'_>>,
) -> (Option<&'m str>, Option<&'m str>) {
    let format = item
        .meta
        .as_ref()
        .and_then(|m| m.format.as_deref())
        .or_else(|| command.and_then(|m| m.format.as_deref()));
    let type_ = item
        .meta
        .as_ref()
        .and_then(|m| m.type_.as_deref())
        .or_else(|| command.and_then(|m| m.type_.as_deref()));
    (format, type_)
}

/// The item's value, lent to the Manager (a CSP copies what it keeps).
fn data_bytes<'i>(item: &'i Item<'_>) -> Cow<'i, [u8]> {
    Cow::Borrowed(item.data.as_ref().map_or(&[][..], |d| d.as_bytes()))
}

impl<'m> Executor<'_, 'm> {
    /// Runs one top-level command, appending its Status(es) and Results to `out` (a list the
    /// caller reuses from command to command); returns whether it succeeded. A command
    /// marked NoResp gets no Status (its Results still go).
    pub fn run<'c>(&mut self, command: &'c Command<'_>, out: &mut Vec<Response<'c>>) -> bool
    where
        'm: 'c,
    {
        if self.cancelled {
            out.extend(not_executed(self.msg_ref, command));
            return false;
        }
        let start = out.len();
        let ok = self.dispatch(command, out);
        if no_resp(command) {
            let id = command.cmd_id().unwrap_or("");
            let mut i = start;
            while i < out.len() {
                if out[i].is_status_for(id) {
                    out.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        ok
    }

    fn dispatch<'c>(&mut self, command: &'c Command<'_>, out: &mut Vec<Response<'c>>) -> bool
    where
        'm: 'c,
    {
        match command {
            Command::Add(c) => self.items(c, "Add", out, |cm, who, item, meta| {
                let target = item
                    .target_uri()
                    .ok_or_else(|| CmError::bad_request("no Target"))?;
                let (format, type_) = effective_meta(item, meta);
                let node = if format.is_some_and(|f| f.eq_ignore_ascii_case("node")) {
                    if item.data.as_ref().is_some_and(|d| !d.is_empty()) {
                        // An interior node has no value: the command contradicts itself.
                        return Err(CmError::bad_request(
                            "an interior node (Format node) with Data",
                        ));
                    }
                    NewNode::Interior {
                        type_: type_.unwrap_or("").to_owned(),
                    }
                } else {
                    NewNode::Leaf(LeafValue {
                        data: data_bytes(item),
                        format: Cow::Borrowed(format.unwrap_or("chr")),
                        type_: Cow::Borrowed(type_.unwrap_or("text/plain")),
                    })
                };
                cm.add(who, target, node)
            }),
            Command::Replace(c) => self.items(c, "Replace", out, |cm, who, item, meta| {
                let target = item
                    .target_uri()
                    .ok_or_else(|| CmError::bad_request("no Target"))?;
                let (format, type_) = effective_meta(item, meta);
                let value = LeafValue {
                    data: data_bytes(item),
                    format: Cow::Borrowed(format.unwrap_or("")),
                    type_: Cow::Borrowed(type_.unwrap_or("")),
                };
                cm.replace(who, target, value)
            }),
            Command::Delete(c) => self.items(c, "Delete", out, |cm, who, item, _| {
                cm.delete(
                    who,
                    item.target_uri()
                        .ok_or_else(|| CmError::bad_request("no Target"))?,
                )
            }),
            Command::Copy(c) => self.items(c, "Copy", out, |cm, who, item, _| {
                let target = item
                    .target_uri()
                    .ok_or_else(|| CmError::bad_request("no Target"))?;
                let source = item
                    .source_uri()
                    .ok_or_else(|| CmError::bad_request("no Source"))?;
                cm.copy(who, source, target)
            }),
            Command::Get(c) => self.get(c, out),
            Command::Exec(c) => self.exec(c, out),
            Command::Alert(a) => self.alert(a, out),
            Command::Atomic(c) => self.atomic(c, out),
            Command::Sequence(c) => self.sequence(c, out),
            // Status and Results from the server are handled by the session, never answered.
            Command::Status(_) | Command::Results(_) => true,
            Command::Malformed(m) => {
                out.push(self.malformed(m));
                false
            }
        }
    }

    fn malformed<'c>(&self, m: &'c Malformed<'_>) -> Response<'c>
    where
        'm: 'c,
    {
        let code = match m.element.as_str() {
            "Sync" | "Map" | "Put" | "Search" | "Move" => 406,
            _ => 400,
        };
        log::warn!(
            "command <{}> (CmdID {}) not decoded: {}",
            omadm_syncml::printable(&m.element).limit(64),
            omadm_syncml::printable(m.cmd_id.as_deref().unwrap_or("none")).limit(32),
            m.error
        );
        status(
            self.msg_ref,
            m.cmd_id.as_deref().unwrap_or(""),
            &m.element,
            code,
        )
    }

    /// Runs a per-item operation and folds the outcomes into statuses.
    fn items<'c>(
        &mut self,
        c: &'c ItemCommand<'_>,
        name: &'static str,
        out: &mut Vec<Response<'c>>,
        mut op: impl FnMut(
            &mut Manager,
            &Principal,
            &Item<'_>,
            Option<&Meta<'_>>,
        ) -> Result<(), CmError>,
    ) -> bool
    where
        'm: 'c,
    {
        let mut outcome =
            |this: &mut Self, item: &Item<'_>| match op(this.cm, this.who, item, c.meta.as_deref())
            {
                Ok(()) => 200,
                Err(e) => {
                    log::info!(
                        "{name} {}: {e}",
                        omadm_syncml::printable(
                            item.target_uri()
                                .or(item.source_uri())
                                .unwrap_or("(no URI)")
                        )
                        .limit(128)
                    );
                    e.status
                }
            };
        if let [item] = c.items.as_slice() {
            // The common case, without a list of outcomes.
            let code = outcome(self, item);
            self.fold(&c.cmd_id, name, &c.items, &[code], out);
            return is_success(code);
        }
        let codes: Vec<u16> = c.items.iter().map(|item| outcome(self, item)).collect();
        self.fold(&c.cmd_id, name, &c.items, &codes, out);
        codes.iter().all(|code| is_success(*code))
    }

    /// Appends one Status when every item has the same code (`codes[i]` is the outcome of
    /// `items[i]`), else one per item; each refers to its items' URIs without copying them.
    // In line: every command's Status goes through it (LLVM leaves it out of line when
    // `get` grows, a call and a copy of each Status more).
    #[inline(always)]
    fn fold<'c>(
        &self,
        cmd_id: &'c str,
        name: &'c str,
        items: &'c [Item<'_>],
        codes: &[u16],
        out: &mut Vec<Response<'c>>,
    ) where
        'm: 'c,
    {
        let status_for = |items: &'c [Item<'_>], code: u16| {
            Response::Status(ItemStatus {
                msg_ref: self.msg_ref,
                cmd_ref: cmd_id,
                cmd: name,
                items,
                code,
            })
        };
        let first = codes.first().copied().unwrap_or(200);
        if codes.iter().all(|&code| code == first) {
            out.push(status_for(items, first));
        } else {
            for (item, &code) in items.iter().zip(codes) {
                out.push(status_for(std::slice::from_ref(item), code));
            }
        }
    }

    fn get<'c>(&mut self, c: &'c ItemCommand<'_>, out: &mut Vec<Response<'c>>) -> bool
    where
        'm: 'c,
    {
        // The nodes found, in order: the first held as a Results of its own (nearly every
        // Get names one node and finds one value), the rest (more Items, a `?list=`) as Items.
        let msg_ref = self.msg_ref;
        let mut first: Option<NodeResults<'c>> = None;
        let mut more: Vec<Item<'c>> = Vec::new();
        let mut get_one = |this: &mut Self, item: &'c Item<'_>| match item.target_uri() {
            None => 400,
            Some(target) => {
                let found = |r: ResultItem<'c>| {
                    let node = NodeResults {
                        msg_ref,
                        cmd_ref: &c.cmd_id,
                        uri: r.uri,
                        format: r.format,
                        type_: r.type_,
                        data: r.data,
                    };
                    match first.take() {
                        None if more.is_empty() => first = Some(node),
                        earlier => {
                            more.reserve(2);
                            more.extend(earlier.map(NodeResults::into_item));
                            more.push(node.into_item());
                        }
                    }
                };
                match this.cm.get_each(this.who, target, found) {
                    Ok(()) => 200,
                    Err(e) => e.status,
                }
            }
        };
        let ok = if let [item] = c.items.as_slice() {
            // The common case, without a list of outcomes.
            let code = get_one(self, item);
            self.fold(&c.cmd_id, "Get", &c.items, &[code], out);
            is_success(code)
        } else {
            let codes: Vec<u16> = c.items.iter().map(|item| get_one(self, item)).collect();
            self.fold(&c.cmd_id, "Get", &c.items, &codes, out);
            codes.iter().all(|code| is_success(*code))
        };
        if let Some(node) = first {
            out.push(Response::Results(node));
        } else if !more.is_empty() {
            out.push(Response::Command(Command::Results(Results {
                cmd_id: Cow::Borrowed(""),
                msg_ref: Some(Cow::Borrowed(self.msg_ref)),
                cmd_ref: Cow::Borrowed(&c.cmd_id),
                meta: None,
                target_ref: None,
                source_ref: None,
                items: more,
            })));
        }
        ok
    }

    fn exec<'c>(&mut self, c: &'c ExecCmd<'_>, out: &mut Vec<Response<'c>>) -> bool
    where
        'm: 'c,
    {
        let mut codes = Vec::with_capacity(c.items.len());
        for item in &c.items {
            let code = match item.target_uri() {
                None => 400,
                Some(target) => {
                    match self
                        .cm
                        .exec(self.who, target, &data_bytes(item), c.correlator.as_deref())
                    {
                        Ok(ExecOutcome::Done) => 200,
                        Ok(ExecOutcome::Accepted) => 202,
                        Err(e) => e.status,
                    }
                }
            };
            codes.push(code);
        }
        self.fold(&c.cmd_id, "Exec", &c.items, &codes, out);
        codes.iter().all(|code| is_success(*code))
    }

    fn alert<'c>(&mut self, a: &'c Alert<'_>, out: &mut Vec<Response<'c>>) -> bool
    where
        'm: 'c,
    {
        let kind = match a.code() {
            Some(1100) => Some(UiKind::Display),
            Some(1101) => Some(UiKind::Confirm),
            Some(1102) => Some(UiKind::TextInput),
            Some(1103) => Some(UiKind::SingleChoice),
            Some(1104) => Some(UiKind::MultipleChoice),
            _ => None,
        };
        let mut s = Status::new("", self.msg_ref, &*a.cmd_id, "Alert", 200);
        match (a.code(), kind) {
            // Next message: the session's continuation logic sends what is due.
            (Some(1222), _) => {}
            (_, Some(kind)) => self.user_alert(a, kind, &mut s),
            // Alerts a client does not take from a server (1200s, 1224-1226, unknown codes).
            _ => s.data = "406".into(),
        }
        let ok = is_success(s.code().unwrap_or(500));
        out.push(Response::Command(Command::Status(s)));
        ok
    }

    fn user_alert(&mut self, a: &Alert<'_>, kind: UiKind, s: &mut Status<'_>) {
        let text_of = |i: usize| {
            a.items
                .get(i)
                .and_then(|it| it.data.as_ref())
                .and_then(|d| d.as_str())
                .map(str::to_owned)
        };
        let (Some(options), Some(text)) = (text_of(0), text_of(1)) else {
            s.data = "412".into();
            return;
        };
        let choices: Vec<String> = (2..a.items.len()).filter_map(text_of).collect();
        if matches!(kind, UiKind::SingleChoice | UiKind::MultipleChoice) && choices.is_empty() {
            s.data = "412".into();
            return;
        }
        let Some(ui) = self.ui.as_deref_mut() else {
            s.data = "406".into();
            return;
        };
        let request = UiRequest {
            kind,
            text,
            choices: choices.clone(),
            options: parse_options(&options),
            server: self.server_name.to_owned(),
        };
        let code = match (kind, ui.ask(&request)) {
            (_, UiResponse::NotSupported) => 406,
            (_, UiResponse::Cancelled) => {
                self.cancelled = true;
                214
            }
            (_, UiResponse::TimedOut) => 408,
            (UiKind::Confirm, UiResponse::Rejected) => 304,
            (UiKind::Display | UiKind::Confirm, UiResponse::Accepted) => 200,
            (UiKind::TextInput, UiResponse::Text(t)) => {
                s.items.push(Item {
                    data: Some(Data::Text(t.into())),
                    ..Item::default()
                });
                200
            }
            (UiKind::SingleChoice, UiResponse::Selected(sel))
                if sel.len() == 1 && (1..=choices.len()).contains(&sel[0]) =>
            {
                s.items.push(Item {
                    data: Some(Data::Text(sel[0].to_string().into())),
                    ..Item::default()
                });
                200
            }
            (UiKind::MultipleChoice, UiResponse::Selected(sel))
                if sel.iter().all(|n| (1..=choices.len()).contains(n)) =>
            {
                for n in sel {
                    s.items.push(Item {
                        data: Some(Data::Text(n.to_string().into())),
                        ..Item::default()
                    });
                }
                200
            }
            // An answer that does not fit the question.
            _ => 500,
        };
        s.data = omadm_syncml::code_text(code);
    }

    fn atomic<'c>(&mut self, c: &'c Container<'_>, all: &mut Vec<Response<'c>>) -> bool
    where
        'm: 'c,
    {
        let mut out = vec![status(self.msg_ref, &c.cmd_id, "Atomic", 200)];
        if let Err(e) = self.cm.begin_atomic() {
            out[0] = status(self.msg_ref, &c.cmd_id, "Atomic", e.status);
            all.append(&mut out);
            return false;
        }
        let mut failed_at = None;
        let mut child_out: Vec<(usize, Vec<Response<'c>>)> = Vec::new();
        for (i, child) in c.commands.iter().enumerate() {
            if failed_at.is_some() {
                child_out.push((i, not_executed(self.msg_ref, child)));
                continue;
            }
            let (responses, ok) = match child {
                Command::Get(_) | Command::Exec(_) | Command::Sequence(_) | Command::Atomic(_) => (
                    vec![Response::Status(ItemStatus::for_command(
                        self.msg_ref,
                        child,
                        500,
                    ))],
                    false,
                ),
                _ => {
                    let mut responses = Vec::new();
                    let ok = self.run(child, &mut responses);
                    (responses, ok)
                }
            };
            if !ok {
                failed_at = Some(i);
            }
            child_out.push((i, responses));
        }
        match failed_at {
            None => match self.cm.commit_atomic() {
                Ok(()) => {}
                Err(e) => {
                    out[0] = status(self.msg_ref, &c.cmd_id, "Atomic", e.status);
                }
            },
            Some(failed) => {
                let rolled_back = self.cm.rollback_atomic();
                let (atomic_code, undone_code) = match rolled_back {
                    Ok(()) => (507, 216),
                    Err(_) => (516, 516),
                };
                out[0] = status(self.msg_ref, &c.cmd_id, "Atomic", atomic_code);
                for (i, responses) in &mut child_out {
                    if *i < failed {
                        for r in responses.iter_mut() {
                            r.set_status_code(undone_code);
                        }
                        responses.retain(|r| !r.is_results());
                    }
                }
            }
        }
        out.extend(child_out.into_iter().flat_map(|(_, r)| r));
        all.append(&mut out);
        failed_at.is_none()
    }

    fn sequence<'c>(&mut self, c: &'c Container<'_>, out: &mut Vec<Response<'c>>) -> bool
    where
        'm: 'c,
    {
        out.push(status(self.msg_ref, &c.cmd_id, "Sequence", 200));
        let mut stopped = false;
        for child in &c.commands {
            if stopped {
                out.extend(not_executed(self.msg_ref, child));
                continue;
            }
            let ok = match child {
                Command::Sequence(_) => {
                    out.push(Response::Status(ItemStatus::for_command(
                        self.msg_ref,
                        child,
                        500,
                    )));
                    false
                }
                _ => self.run(child, out),
            };
            stopped = !ok;
        }
        true
    }
}

/// Whether the command asked for no Status.
fn no_resp(command: &Command<'_>) -> bool {
    match command {
        Command::Add(c)
        | Command::Copy(c)
        | Command::Delete(c)
        | Command::Get(c)
        | Command::Replace(c) => c.no_resp,
        Command::Alert(a) => a.no_resp,
        Command::Exec(e) => e.no_resp,
        Command::Atomic(c) | Command::Sequence(c) => c.no_resp,
        _ => false,
    }
}

/// 215 for a command (and, for a container, each command inside it) that was not executed.
pub(crate) fn not_executed<'c>(msg_ref: &'c str, command: &'c Command<'_>) -> Vec<Response<'c>> {
    refused(msg_ref, command, 215)
}

/// `code` for a command that was not executed and, for a container, for each command inside
/// it; every Status with its command's TargetRefs and SourceRefs.
pub(crate) fn refused<'c>(
    msg_ref: &'c str,
    command: &'c Command<'_>,
    code: u16,
) -> Vec<Response<'c>> {
    let mut out = vec![Response::Status(ItemStatus::for_command(
        msg_ref, command, code,
    ))];
    if let Command::Atomic(c) | Command::Sequence(c) = command {
        for child in &c.commands {
            out.extend(refused(msg_ref, child, code));
        }
    }
    out
}

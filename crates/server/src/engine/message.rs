//! Building the server's next message of a session: its answers first, then as many jobs as
//! fit the smaller of the server's and the device's MaxMsgSize, measured on the encoding.

use omadm_syncml::auth::{AuthScheme, HmacHeader};
use omadm_syncml::{
    command_len, encode, Alert, Command, Location, Meta, SyncBody, SyncHdr, SyncMl,
};

use super::{auth, Engine, Reply};
use crate::jobs::Job;

/// What the message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Build {
    /// The device's package continues: the answers and an Alert 1222 asking for the rest.
    Continue,
    /// The answers, then the jobs that fit; the session ends when nothing is left.
    Jobs,
    /// The device's credentials were refused: the answers only; the session stays open.
    Refused,
    /// The session ends: the answers only, Final, the session dropped.
    End,
}

impl Engine {
    /// Builds the next message of session `key`.
    pub(super) fn build(&mut self, key: &(String, String), mode: Build) -> Reply {
        let (device, sid) = key;
        let server_nonce = self.server_nonces.get(device).cloned().unwrap_or_default();
        let config = &self.config;
        let s = self.sessions.get_mut(key).expect("open");
        let encoding = config.encoding.unwrap_or(s.device_encoding);
        let limit = config
            .max_msg_size
            .min(s.device_max_msg.unwrap_or(u64::MAX))
            .min(usize::MAX as u64) as usize;
        s.msg_id += 1;
        let msg_id = s.msg_id.to_string();
        let mut header = SyncHdr::new(
            s.version,
            sid.clone(),
            msg_id.clone(),
            Location::new(device.clone()),
            Location::new(config.server_uri.clone()).with_name(config.server_id.clone()),
        );
        if !s.server_accepted {
            if let Some(scheme) = s.server_scheme {
                header.cred = auth::server_cred(
                    scheme,
                    &config.server_id,
                    &config.server_password,
                    &server_nonce,
                );
            }
        }
        let mut meta = Meta::default();
        meta.more_mut().max_msg_size = Some(config.max_msg_size);
        header.meta = Some(meta);
        let empty = SyncMl {
            header: header.clone(),
            body: SyncBody {
                commands: Vec::new(),
                is_final: true,
            },
        };
        // Room for Final, an Alert 1222 and a WBXML code-page switch.
        let reserve = command_len(&Command::Alert(Alert::new("99999", 1222)), encoding) + 8;
        let bare = encode(&empty, encoding).len() + reserve;
        let mut used = bare;
        let mut commands = Vec::new();
        let mut next_id = 0u32;
        // The answers: all of them when the session is refused or ends (a refusal carries a
        // Status for every command), else as many as fit.
        let all_answers = matches!(mode, Build::Refused | Build::End);
        while let Some(answer) = s.answers.front() {
            let len = command_len(answer, encoding);
            if !all_answers && used + len > limit && !commands.is_empty() {
                break;
            }
            let mut answer = s.answers.pop_front().expect("front");
            next_id += 1;
            if let Command::Status(st) = &mut answer {
                st.cmd_id = next_id.to_string().into();
            }
            used += len;
            commands.push(answer);
        }
        let answers_left = !s.answers.is_empty();
        s.last_answers = commands
            .iter()
            .filter(|c| matches!(c, Command::Status(st) if st.cmd_ref != "0"))
            .cloned()
            .collect();
        let mut open_chunk = false;
        // A job left for the next message because the answers took its room.
        let mut deferred = false;
        let mut failed = Vec::new();
        if mode == Build::Jobs && !answers_left {
            let mut jobs_here = 0;
            while let Some(entry) = s.jobs.front() {
                let value_len = entry.job.value_len() as u64;
                if let Some(max) = s.device_max_obj {
                    if value_len > max && !matches!(entry.job, Job::Chunk { .. }) {
                        let entry = s.jobs.pop_front().expect("front");
                        failed.push((entry, max));
                        continue;
                    }
                }
                let mut probe = next_id;
                let (command, _) = entry.job.to_command_numbered(&mut probe);
                let len = command_len(&command, encoding);
                if used + len <= limit {
                    let entry = s.jobs.pop_front().expect("front");
                    let (command, ids) = entry.job.to_command_numbered(&mut next_id);
                    used += len;
                    commands.push(command);
                    jobs_here += 1;
                    open_chunk = matches!(entry.job, Job::Chunk { more: true, .. });
                    let top = ids.first().map(|(id, _)| id.clone());
                    for (id, what) in ids {
                        let entry = (Some(&id) == top.as_ref()).then(|| entry.clone());
                        s.sent
                            .insert((msg_id.clone(), id), super::session::Sent { entry, what });
                    }
                    if open_chunk {
                        // A chunk with more to come ends the message.
                        break;
                    }
                    continue;
                }
                if jobs_here > 0 {
                    break;
                }
                if !commands.is_empty() && bare + len <= limit {
                    // It fits a message of its own: the next one (this one is not Final,
                    // so the device asks for it).
                    deferred = true;
                    break;
                }
                // Alone it does not fit: its value goes as a large object, one chunk per
                // message (the device must get an object's chunks in a row).
                let entry = s.jobs.pop_front().expect("front");
                let overhead = len.saturating_sub(value_len as usize) + 64;
                let room = limit.saturating_sub(used + overhead).max(16);
                let chunks = entry.job.clone().split(room);
                if chunks.len() == 1 {
                    // Not splittable: send it; the device will say 413.
                    s.jobs.push_front(entry);
                    let entry = s.jobs.pop_front().expect("front");
                    let (command, ids) = entry.job.to_command_numbered(&mut next_id);
                    commands.push(command);
                    for (id, what) in ids {
                        s.sent.insert(
                            (msg_id.clone(), id),
                            super::session::Sent {
                                entry: Some(entry.clone()),
                                what,
                            },
                        );
                    }
                    break;
                }
                for chunk in chunks.into_iter().rev() {
                    s.jobs.push_front(super::session::JobEntry {
                        job: chunk,
                        once: entry.once,
                    });
                }
            }
        }
        let more_to_send = answers_left || open_chunk || deferred;
        if mode == Build::Continue {
            next_id += 1;
            commands.push(Command::Alert(Alert::new(next_id.to_string(), 1222)));
        }
        let is_final = mode != Build::Continue && !more_to_send;
        // A message with credentials the device has not accepted yet may be answered with a
        // challenge: the session stays open for that answer (it expires otherwise).
        let awaiting_verdict = !s.server_accepted && s.server_scheme.is_some();
        let ending = mode == Build::End
            || (mode == Build::Jobs
                && is_final
                && s.jobs.is_empty()
                && s.sent.is_empty()
                && !awaiting_verdict);
        let hmac_scheme = s.server_scheme == Some(AuthScheme::Hmac);
        let body = encode(
            &SyncMl {
                header,
                body: SyncBody { commands, is_final },
            },
            encoding,
        );
        if ending {
            self.sessions.remove(key);
        }
        for (entry, max) in failed {
            if let Some(id) = entry.once {
                self.once_delivered
                    .entry(device.clone())
                    .or_default()
                    .insert(id);
            }
            self.record(
                key,
                "Failed",
                entry.job.describe(),
                None,
                Some(format!(
                    "not sent: a value of {} octets is over the device's MaxObjSize {max}",
                    entry.job.value_len()
                )),
            );
        }
        let hmac = hmac_scheme.then(|| {
            HmacHeader::compute(
                &self.config.server_id,
                &self.config.server_password,
                &server_nonce,
                &body,
            )
            .to_header_value()
        });
        Reply {
            body,
            encoding,
            hmac,
            ..Reply::http(200)
        }
    }
}

//! Carrying out FUMO operations after the session that started them: ask the user, download
//! the package over HTTP(S) with `Range` resumption (bounded memory, size and free-space
//! checks, SHA-256 when the server gave one), have the platform install it, pick up the
//! result after the reboot, and report it as a generic alert 1226 that stays pending until a
//! server acknowledges it.
//!
//! Every step is persisted in the [`FumoStore`] before the next begins, so a crash or reboot at
//! any point resumes where it stopped: a download from the bytes already on disk, an install
//! by asking the platform for its result, a report without sending it twice.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use omadm_cm::FileStorage;
use omadm_csp::fumo::{
    self, result, FirmwareUpdater, FumoState, FumoStore, InstallOutcome, Operation, Package,
};
use omadm_dpu::ui::{UiKind, UiOptions, UiRequest, UiResponse};
use omadm_dpu::GenericAlert;
use omadm_transport::retry::{retryable_status, RetryPolicy};
use omadm_transport::{sha256_file, Client, TransportError, Url};

use crate::{Agent, AgentError, AgentEvent};

/// FUMO settings.
#[derive(Debug, Clone)]
pub struct FumoSettings {
    /// Where the management object is mounted (default `./FwUpdate`).
    pub root: String,
    /// Largest package accepted (bytes); a larger one fails with 501.
    pub max_package_bytes: u64,
    /// Retries of an interrupted download (each resumes with `Range`) and their backoff.
    pub download_retry: RetryPolicy,
    /// The role mask allowed on the MO under the role model (WM: Manager, Operator TPS).
    pub default_role: u32,
    /// The MO root's ACL under the OMA ACL model. Default: every server the device has an
    /// account for (and that authenticated) may Add, Delete, Exec, Get and Replace.
    pub acl: String,
}

impl Default for FumoSettings {
    fn default() -> Self {
        FumoSettings {
            root: fumo::DEFAULT_FUMO_ROOT.to_owned(),
            max_package_bytes: 4 * 1024 * 1024 * 1024,
            download_retry: RetryPolicy {
                retries: 5,
                initial: Duration::from_secs(2),
                max: Duration::from_secs(120),
            },
            default_role: omadm_cm::roles::MANAGER | omadm_cm::roles::OPERATOR_TPS,
            acl: "Add=*&Delete=*&Exec=*&Get=*&Replace=*".to_owned(),
        }
    }
}

/// FUMO as the agent runs it.
pub(crate) struct Fumo {
    store: FumoStore,
    updater: Box<dyn FirmwareUpdater>,
    settings: FumoSettings,
    dir: PathBuf,
}

/// Read and write buffer of a download: the memory a download holds, whatever the size.
const CHUNK: usize = 64 * 1024;

/// A file name for a package id (hex, so that any id is safe).
fn file_stem(id: &str) -> String {
    id.bytes().map(|b| format!("{b:02x}")).collect()
}

impl Fumo {
    fn partial(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{}.part", file_stem(id)))
    }

    fn image(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{}.bin", file_stem(id)))
    }
}

/// How a download ended short of the package.
enum DownloadEnd {
    /// Failed with this FUMO result code.
    Failed(u16, String),
    /// Paused for other work (the agent's yield check): the bytes so far stay on disk and
    /// the next run resumes with `Range`.
    Paused,
}

use DownloadEnd::Failed;

/// Bytes between two checks of the agent's yield hook during a download.
const YIELD_EVERY: u64 = 1024 * 1024;

impl Agent {
    /// Mounts FUMO at `settings.root`, its packages kept in `state_dir/fumo`, with
    /// `updater` as the platform's part. Operations accepted in earlier runs continue at the
    /// next [`Agent::run_pending`].
    pub fn enable_fumo(
        &mut self,
        updater: Box<dyn FirmwareUpdater>,
        settings: FumoSettings,
    ) -> Result<(), AgentError> {
        let fumo_dir = self.state_dir.join("fumo");
        let storage = FileStorage::open(&fumo_dir).map_err(AgentError::io(&fumo_dir))?;
        let store = FumoStore::open(Box::new(storage)).map_err(AgentError::load(&fumo_dir))?;
        let dir = self.state_dir.join("fumo-packages");
        fs::create_dir_all(&dir).map_err(AgentError::io(&dir))?;
        self.tree.mount(
            &settings.root,
            Box::new(store.csp(&settings.root).with_acl(&settings.acl)),
            settings.default_role,
        )?;
        self.tree.persist()?;
        self.fumo = Some(Fumo {
            store,
            updater,
            settings,
            dir,
        });
        Ok(())
    }

    /// The FUMO packages (when FUMO is enabled).
    pub fn fumo_store(&self) -> Option<&FumoStore> {
        self.fumo.as_ref().map(|f| &f.store)
    }

    /// Carries every FUMO job as far as it goes now (until a download pauses for other
    /// work: [`Agent::paused`]).
    pub(crate) fn run_firmware_jobs(&mut self) -> Vec<AgentEvent> {
        let mut events = Vec::new();
        let Some(jobs) = self.fumo.as_ref().map(|f| f.store.jobs()) else {
            return events;
        };
        for package in jobs {
            self.run_job(package, &mut events);
            if self.paused {
                break;
            }
        }
        events
    }

    fn save(&self, p: &Package) -> bool {
        let fumo = self.fumo.as_ref().expect("FUMO enabled");
        match fumo.store.save(p) {
            Ok(()) => true,
            Err(e) => {
                log::error!("FUMO {}: cannot persist ({e}); the job waits", p.id);
                false
            }
        }
    }

    fn set_state(&self, p: &mut Package, state: FumoState, events: &mut Vec<AgentEvent>) -> bool {
        p.state = state;
        log::info!("FUMO {}: state {}", p.id, state.code());
        events.push(AgentEvent::Firmware {
            package: p.id.clone(),
            state: state.code(),
            result: None,
        });
        self.save(p)
    }

    fn run_job(&mut self, mut p: Package, events: &mut Vec<AgentEvent>) {
        let Some(job) = p.job.clone() else { return };
        if let Some(code) = job.result {
            self.report(p, code, events);
            return;
        }
        match (job.operation, p.state) {
            (
                Operation::Download | Operation::DownloadAndUpdate,
                FumoState::DownloadProgressing,
            ) => {
                if !job.confirmed {
                    if !self.user_agrees(&p, &job.server_id) {
                        log::info!("FUMO {}: the user declined the download", p.id);
                        self.fail_download(p, result::USER_CANCELLED, events);
                        return;
                    }
                    if let Some(j) = p.job.as_mut() {
                        j.confirmed = true;
                    }
                    if !self.save(&p) {
                        return;
                    }
                }
                match self.download(&p) {
                    Ok(()) => {
                        if !self.set_state(&mut p, FumoState::DownloadComplete, events)
                            || !self.set_state(&mut p, FumoState::ReadyToUpdate, events)
                        {
                            return;
                        }
                        if job.operation == Operation::Download {
                            self.finish(p, result::SUCCESSFUL, events);
                        } else {
                            self.install(p, events);
                        }
                    }
                    Err(Failed(code, why)) => {
                        log::warn!("FUMO {}: download failed ({code}): {why}", p.id);
                        self.fail_download(p, code, events);
                    }
                    Err(DownloadEnd::Paused) => {
                        log::info!("FUMO {}: download paused for other work", p.id);
                        self.paused = true;
                    }
                }
            }
            (Operation::DownloadAndUpdate, FumoState::ReadyToUpdate) => self.install(p, events),
            (_, FumoState::UpdateProgressing) if job.install_started => {
                let fumo = self.fumo.as_mut().expect("FUMO enabled");
                match fumo.updater.install_result(&p.info()) {
                    Some(code) => self.finish_update(p, code, events),
                    None => log::info!("FUMO {}: install still in progress", p.id),
                }
            }
            (_, FumoState::UpdateProgressing) => self.install(p, events),
            (op, state) => {
                log::error!(
                    "FUMO {}: {} job in state {}: ended as failed",
                    p.id,
                    op.node(),
                    state.code()
                );
                self.finish(p, result::UPDATE_FAILED, events);
            }
        }
    }

    /// Asks the user before a download (when a UI is attached); a UI that cannot ask counts
    /// as no UI. Declined, cancelled or unanswered: no.
    fn user_agrees(&mut self, p: &Package, server_id: &str) -> bool {
        let Some(ui) = self.ui.clone() else {
            return true;
        };
        let info = p.info();
        let request = UiRequest {
            kind: UiKind::Confirm,
            text: format!(
                "Download and install the firmware update {} {}?",
                if info.name.is_empty() {
                    &info.id
                } else {
                    &info.name
                },
                info.version
            )
            .trim_end()
            .to_owned(),
            choices: Vec::new(),
            options: UiOptions::default(),
            server: server_id.to_owned(),
        };
        let answer = ui.lock().unwrap_or_else(|p| p.into_inner()).ask(&request);
        matches!(answer, UiResponse::Accepted | UiResponse::NotSupported)
    }

    fn fail_download(&mut self, mut p: Package, code: u16, events: &mut Vec<AgentEvent>) {
        if let Some(f) = self.fumo.as_ref() {
            let _ = fs::remove_file(f.partial(&p.id));
        }
        if self.set_state(&mut p, FumoState::DownloadFailed, events) {
            self.finish(p, code, events);
        }
    }

    /// Downloads the package of `p`'s job to its image file.
    fn download(&mut self, p: &Package) -> Result<(), DownloadEnd> {
        let fumo = self.fumo.as_ref().expect("FUMO enabled");
        let op = p.job.as_ref().map_or(Operation::Download, |j| j.operation);
        let url = p.url_for(op).unwrap_or("").to_owned();
        match Url::parse(&url) {
            Ok(_) => {}
            Err(e) => return Err(Failed(result::BAD_URL, e.to_string())),
        }
        let (partial, image, max, policy) = (
            fumo.partial(&p.id),
            fumo.image(&p.id),
            fumo.settings.max_package_bytes,
            fumo.settings.download_retry,
        );
        if image.exists() {
            // Downloaded and checked before a crash: only the state was not saved.
            return Ok(());
        }
        // Downloads use the agent's own TLS settings (no account's client certificate).
        let key = (None, self.config.transport.allow_plain_http);
        let mut client = match self.client.take() {
            Some((k, c)) if k == key => c,
            _ => Client::new(self.config.transport.clone())
                .map_err(|e| Failed(result::DOWNLOAD_SERVER_ERROR, e.to_string()))?,
        };
        let mut attempt = 0;
        let outcome = loop {
            match self.fetch(&mut client, p, &url, &partial, max) {
                Ok(()) => break Ok(()),
                Err(Retry::No(f)) => break Err(f),
                Err(Retry::Paused) => break Err(DownloadEnd::Paused),
                Err(Retry::Yes(why)) => {
                    attempt += 1;
                    match policy.backoff(attempt) {
                        Some(wait) => {
                            log::info!(
                                "FUMO {}: download interrupted ({why}); resuming in {wait:?}",
                                p.id
                            );
                            (self.sleeper)(wait);
                        }
                        None => break Err(Failed(result::DOWNLOAD_NETWORK, why)),
                    }
                }
            }
        };
        client.disconnect();
        self.client = Some((key, client));
        outcome?;
        if let Some(expected) = &p.digest {
            let actual = sha256_file(&partial)
                .map_err(|e| Failed(result::DOWNLOAD_SERVER_ERROR, e.to_string()))?;
            if &actual != expected {
                let _ = fs::remove_file(&partial);
                return Err(Failed(
                    result::CORRUPTED_PACKAGE,
                    format!("SHA-256 {actual}, the server said {expected}"),
                ));
            }
        }
        fs::rename(&partial, &image)
            .map_err(|e| Failed(result::DOWNLOAD_SERVER_ERROR, e.to_string()))?;
        Ok(())
    }

    /// One attempt: continue the partial file from where it ends.
    fn fetch(
        &mut self,
        client: &mut Client,
        p: &Package,
        url: &str,
        partial: &Path,
        max: u64,
    ) -> Result<(), Retry> {
        let io_fail = |e: std::io::Error| {
            if e.raw_os_error() == Some(libc::ENOSPC) {
                Retry::No(Failed(result::DOWNLOAD_OUT_OF_MEMORY, e.to_string()))
            } else {
                Retry::No(Failed(result::DOWNLOAD_SERVER_ERROR, e.to_string()))
            }
        };
        let mut offset = fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
        let mut d = match client.download(url, offset) {
            Ok(d) => d,
            Err(e @ (TransportError::Connect(_) | TransportError::Io(_))) => {
                return Err(Retry::Yes(e.to_string()))
            }
            Err(e @ TransportError::BadUrl(_)) => {
                return Err(Retry::No(Failed(result::BAD_URL, e.to_string())))
            }
            Err(e) => {
                return Err(Retry::No(Failed(
                    result::DOWNLOAD_SERVER_ERROR,
                    e.to_string(),
                )))
            }
        };
        match d.status {
            200 => offset = 0,
            206 if d.offset == offset => {}
            206 => {
                // Not where we asked: start over.
                drop(d);
                fs::remove_file(partial).map_err(io_fail)?;
                return Err(Retry::Yes("the server resumed elsewhere".into()));
            }
            416 if d.total == Some(offset) => return Ok(()),
            416 => {
                drop(d);
                fs::remove_file(partial).map_err(io_fail)?;
                return Err(Retry::Yes("the package changed on the server".into()));
            }
            s if retryable_status(s) => return Err(Retry::Yes(format!("HTTP {s}"))),
            s => {
                return Err(Retry::No(Failed(
                    result::DOWNLOAD_SERVER_ERROR,
                    format!("HTTP {s}"),
                )))
            }
        }
        let fumo = self.fumo.as_mut().expect("FUMO enabled");
        if let Some(total) = d.total {
            if total > max {
                return Err(Retry::No(Failed(
                    result::DOWNLOAD_OUT_OF_MEMORY,
                    format!("package of {total} bytes over the {max}-byte limit"),
                )));
            }
            let free = fumo
                .updater
                .available_space(&fumo.dir)
                .or_else(|| crate::free_space::available(&fumo.dir));
            let needed = total.saturating_sub(offset);
            if let Some(free) = free {
                if needed > free {
                    return Err(Retry::No(Failed(
                        result::DOWNLOAD_OUT_OF_MEMORY,
                        format!("{needed} bytes needed, {free} free"),
                    )));
                }
            }
        }
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(offset == 0)
            .append(offset > 0)
            .open(partial)
            .map_err(io_fail)?;
        let info = p.info();
        let mut done = offset;
        let mut buf = vec![0u8; CHUNK];
        let mut next_report = done;
        let mut next_yield_check = done + YIELD_EVERY;
        loop {
            let n = match d.body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    file.sync_data().map_err(io_fail)?;
                    return Err(Retry::Yes(e.to_string()));
                }
            };
            file.write_all(&buf[..n]).map_err(io_fail)?;
            done += n as u64;
            if done > max {
                return Err(Retry::No(Failed(
                    result::DOWNLOAD_OUT_OF_MEMORY,
                    format!("package over the {max}-byte limit"),
                )));
            }
            if done >= next_report {
                fumo.updater.progress(&info, done, d.total);
                log::debug!(
                    "FUMO {}: {done} of {} bytes",
                    p.id,
                    d.total.map_or("?".to_owned(), |t| t.to_string())
                );
                next_report = done + 1024 * 1024;
            }
            if done >= next_yield_check {
                next_yield_check = done + YIELD_EVERY;
                if (self.yield_check)() {
                    file.sync_data().map_err(io_fail)?;
                    return Err(Retry::Paused);
                }
            }
        }
        file.sync_all().map_err(io_fail)?;
        if d.total.is_some_and(|t| t != done) {
            return Err(Retry::Yes(format!(
                "{done} bytes of {}",
                d.total.unwrap_or_default()
            )));
        }
        fumo.updater.progress(&info, done, d.total);
        log::info!("FUMO {}: downloaded {done} bytes", p.id);
        Ok(())
    }

    /// Hands the package to the platform (its image file, or the package delivered in the
    /// session written to it).
    fn install(&mut self, mut p: Package, events: &mut Vec<AgentEvent>) {
        let fumo = self.fumo.as_ref().expect("FUMO enabled");
        let image = fumo.image(&p.id);
        if !image.exists() {
            match fumo.store.package_data(&p.id) {
                Some(data) if !data.is_empty() => {
                    if let Err(e) = write_durably(&image, &data) {
                        log::error!("FUMO {}: cannot write the package: {e}", p.id);
                        let code = if e.raw_os_error() == Some(libc::ENOSPC) {
                            result::UPDATE_OUT_OF_MEMORY
                        } else {
                            result::UPDATE_FAILED
                        };
                        self.finish_update(p, code, events);
                        return;
                    }
                }
                _ => {
                    log::error!("FUMO {}: no package on the device to install", p.id);
                    self.finish_update(p, result::UPDATE_FAILED, events);
                    return;
                }
            }
        }
        if let Some(j) = p.job.as_mut() {
            j.install_started = true;
        }
        // Persisted before the platform is called: after a reboot only the result is asked.
        if !self.set_state(&mut p, FumoState::UpdateProgressing, events) {
            return;
        }
        let fumo = self.fumo.as_mut().expect("FUMO enabled");
        match fumo.updater.install(&p.info(), &image) {
            InstallOutcome::Finished(code) => self.finish_update(p, code, events),
            InstallOutcome::Pending => {
                log::info!(
                    "FUMO {}: installing; the result comes after the restart",
                    p.id
                )
            }
        }
    }

    fn finish_update(&mut self, mut p: Package, code: u16, events: &mut Vec<AgentEvent>) {
        if let Some(f) = self.fumo.as_ref() {
            let _ = fs::remove_file(f.image(&p.id));
            if let Err(e) = f.store.set_package_data(&p.id, None) {
                log::warn!("FUMO {}: cannot drop the package data: {e}", p.id);
            }
        }
        let state = if result::is_success(code) {
            FumoState::UpdateSuccessfulNoData
        } else {
            FumoState::UpdateFailedNoData
        };
        if self.set_state(&mut p, state, events) {
            self.finish(p, code, events);
        }
    }

    /// Records the result (durably), then reports it.
    fn finish(&mut self, mut p: Package, code: u16, events: &mut Vec<AgentEvent>) {
        if let Some(j) = p.job.as_mut() {
            j.result = Some(code);
        }
        if self.save(&p) {
            self.report(p, code, events);
        }
    }

    /// Queues the final notification unless it is already pending (a crash between queueing
    /// and clearing the job), then clears the job.
    fn report(&mut self, mut p: Package, code: u16, events: &mut Vec<AgentEvent>) {
        let Some(job) = p.job.clone() else { return };
        if !job.server_id.is_empty() {
            let f = fumo::final_alert(&job, code);
            let alert = GenericAlert {
                id: 0,
                correlator: f.correlator,
                source: Some(f.source),
                target: None,
                type_: f.type_,
                format: f.format,
                mark: f.mark,
                data: f.data,
            };
            let pending = self.alerts.for_server(&job.server_id).into_iter().any(|a| {
                a.type_ == alert.type_
                    && a.source == alert.source
                    && a.correlator == alert.correlator
                    && a.data == alert.data
            });
            if !pending {
                if let Err(e) = self.add_generic_alert(&job.server_id, alert) {
                    log::error!("FUMO {}: cannot queue the result: {e}", p.id);
                    return;
                }
            } else if !self.queue.iter().any(|(s, _, _)| *s == job.server_id) {
                self.request_session(&job.server_id);
            }
        }
        log::info!("FUMO {}: result {code} reported to {}", p.id, job.server_id);
        events.push(AgentEvent::Firmware {
            package: p.id.clone(),
            state: p.state.code(),
            result: Some(code),
        });
        p.job = None;
        self.save(&p);
    }
}

enum Retry {
    Yes(String),
    No(DownloadEnd),
    Paused,
}

fn write_durably(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

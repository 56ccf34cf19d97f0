//! FUMO 1.0 (OMA-TS-DM-FUMO-V1_0): the firmware update management object, mounted where the
//! Windows Mobile design mounts it (`./FwUpdate`, configurable), one package per `<x>`.
//!
//! - [`FumoStore`] keeps the packages and the operation in progress durably (it survives the
//!   reboot that installs an image); [`FumoCsp`] is the view a server manages.
//! - Exec on `Download`, `Update` or `DownloadAndUpdate` answers 202 and records a [`Job`]; the
//!   agent carries it out after the session (download, install through the platform's
//!   [`FirmwareUpdater`]) and reports the result as a generic alert 1226 ([`final_alert`]).
//! - `State` follows the FUMO state machine ([`FumoState`]); a server may poll it any time.
//!
//! Decisions where FUMO 1.0 leaves room (tested in `tests/fumo.rs`):
//! - An Exec is accepted with or without a Correlator (WM 6.5 servers always send one); the
//!   alert carries the Correlator only when the Exec had one. Exec while a download or update
//!   is in progress, or without what it needs (PkgURL; a package ready for Update), is 405.
//! - The alert's Source is the Exec'd node (`./FwUpdate/<x>/DownloadAndUpdate`), as Windows
//!   Mobile sends it; its Mark is `critical` for a failure, absent for success.
//! - An integrity check when the server supplies a digest: `<x>/Ext/PkgDigest`, a SHA-256 as
//!   64 hex digits, optionally prefixed `sha256:` (FUMO 1.0 has no digest node; `Ext` is the
//!   vendor extension point). A mismatch ends the download with 402 (corrupted package).
//! - `Download`, `Update`, `DownloadAndUpdate`, `State` and `Ext` exist from the moment `<x>`
//!   is added (the MO's structure); Add of one of them is 418.

mod csp;
mod record;
mod store;

pub use csp::FumoCsp;
pub use store::{FumoStore, Package};

use std::path::Path;

/// The MO identifier, the Type of every `<x>`.
pub const FUMO_MO: &str = "urn:oma:mo:oma-fumo:1.0";
/// Where Windows Mobile mounts FUMO.
pub const DEFAULT_FUMO_ROOT: &str = "./FwUpdate";

/// FUMO result codes (FUMO 1.0 §7, windows-mobile-dm.md §6) the stack itself reports.
pub mod result {
    /// Successful.
    pub const SUCCESSFUL: u16 = 200;
    /// User cancelled (declined).
    pub const USER_CANCELLED: u16 = 401;
    /// Corrupted firmware update package (the digest did not match).
    pub const CORRUPTED_PACKAGE: u16 = 402;
    /// Alternate download request time-out.
    pub const DOWNLOAD_TIMEOUT: u16 = 407;
    /// Firmware update failed.
    pub const UPDATE_FAILED: u16 = 410;
    /// Malformed or bad URL.
    pub const BAD_URL: u16 = 411;
    /// Alternate download server error (the server answered, with an error).
    pub const DOWNLOAD_SERVER_ERROR: u16 = 500;
    /// Download failed, device out of memory (no space for the package).
    pub const DOWNLOAD_OUT_OF_MEMORY: u16 = 501;
    /// Update failed, device out of memory.
    pub const UPDATE_OUT_OF_MEMORY: u16 = 502;
    /// Download failed, network issues.
    pub const DOWNLOAD_NETWORK: u16 = 503;

    /// Whether `code` reports success (2xx).
    pub fn is_success(code: u16) -> bool {
        (200..300).contains(&code)
    }
}

/// FUMO states (§8.2 of our digest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FumoState {
    /// 10: idle / start.
    Idle,
    /// 20: download failed.
    DownloadFailed,
    /// 30: download progressing.
    DownloadProgressing,
    /// 40: download complete.
    DownloadComplete,
    /// 50: ready to update.
    ReadyToUpdate,
    /// 60: update progressing.
    UpdateProgressing,
    /// 70: update failed, have data.
    UpdateFailedHaveData,
    /// 80: update failed, no data.
    UpdateFailedNoData,
    /// 90: update successful, have data.
    UpdateSuccessfulHaveData,
    /// 100: update successful, no data.
    UpdateSuccessfulNoData,
}

impl FumoState {
    /// The State node's value.
    pub fn code(self) -> u16 {
        match self {
            FumoState::Idle => 10,
            FumoState::DownloadFailed => 20,
            FumoState::DownloadProgressing => 30,
            FumoState::DownloadComplete => 40,
            FumoState::ReadyToUpdate => 50,
            FumoState::UpdateProgressing => 60,
            FumoState::UpdateFailedHaveData => 70,
            FumoState::UpdateFailedNoData => 80,
            FumoState::UpdateSuccessfulHaveData => 90,
            FumoState::UpdateSuccessfulNoData => 100,
        }
    }

    /// The state for a State value.
    pub fn from_code(code: u16) -> Option<FumoState> {
        Some(match code {
            10 => FumoState::Idle,
            20 => FumoState::DownloadFailed,
            30 => FumoState::DownloadProgressing,
            40 => FumoState::DownloadComplete,
            50 => FumoState::ReadyToUpdate,
            60 => FumoState::UpdateProgressing,
            70 => FumoState::UpdateFailedHaveData,
            80 => FumoState::UpdateFailedNoData,
            90 => FumoState::UpdateSuccessfulHaveData,
            100 => FumoState::UpdateSuccessfulNoData,
            _ => return None,
        })
    }

    /// Whether a download or an update is running (a new Exec is refused).
    pub fn busy(self) -> bool {
        matches!(
            self,
            FumoState::DownloadProgressing | FumoState::UpdateProgressing
        )
    }
}

/// The three executable nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `Download`: fetch the package, keep it ready for an Update.
    Download,
    /// `Update`: install the package already on the device.
    Update,
    /// `DownloadAndUpdate`: both, without further server action.
    DownloadAndUpdate,
}

impl Operation {
    /// The node's name.
    pub fn node(self) -> &'static str {
        match self {
            Operation::Download => "Download",
            Operation::Update => "Update",
            Operation::DownloadAndUpdate => "DownloadAndUpdate",
        }
    }

    /// The node name's operation.
    pub fn from_node(name: &str) -> Option<Operation> {
        Some(match name {
            "Download" => Operation::Download,
            "Update" => Operation::Update,
            "DownloadAndUpdate" => Operation::DownloadAndUpdate,
            _ => return None,
        })
    }

    /// The generic alert's Meta Type for this operation's result.
    pub fn alert_type(self) -> &'static str {
        match self {
            Operation::Download => "org.openmobilealliance.dm.firmwareupdate.download",
            Operation::Update => "org.openmobilealliance.dm.firmwareupdate.update",
            Operation::DownloadAndUpdate => {
                "org.openmobilealliance.dm.firmwareupdate.downloadandupdate"
            }
        }
    }
}

/// An operation a server started, until its result is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// What was executed.
    pub operation: Operation,
    /// The Exec's Correlator.
    pub correlator: Option<String>,
    /// The server that executed it (the alert goes there).
    pub server_id: String,
    /// The Exec's target URI (the alert's Source).
    pub source: String,
    /// The user agreed to the download (asked once, remembered across restarts).
    pub confirmed: bool,
    /// The platform was asked to install (`install` called; after a restart only its
    /// result is asked for).
    pub install_started: bool,
    /// The result, once known: it is being reported.
    pub result: Option<u16>,
}

/// What the platform is told about a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInfo {
    /// `<x>`.
    pub id: String,
    /// PkgName.
    pub name: String,
    /// PkgVersion.
    pub version: String,
    /// The download URL, if any.
    pub url: Option<String>,
}

/// What the platform's install did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallOutcome {
    /// Finished with this FUMO result code (200 success, 4xx/5xx failure).
    Finished(u16),
    /// Running, or the device reboots to install: the result comes later from
    /// [`FirmwareUpdater::install_result`] (asked after every restart and agent run).
    Pending,
}

/// The platform's part of a firmware update. The stack downloads, checks and keeps the
/// package and reports the result; the platform installs it.
pub trait FirmwareUpdater: Send {
    /// Installs the package at `image` (a file the stack owns until the result is known).
    /// Called once per Update; the stack has persisted "update progressing" before.
    fn install(&mut self, package: &PackageInfo, image: &Path) -> InstallOutcome;

    /// The result of an install that was [`InstallOutcome::Pending`] (also after a restart):
    /// `Some(code)` once known, `None` while still running.
    fn install_result(&mut self, package: &PackageInfo) -> Option<u16>;

    /// Bytes free for the package in `dir`, when the platform knows better than the file
    /// system (quotas, a separate partition). `None` lets the stack ask the file system.
    fn available_space(&mut self, dir: &Path) -> Option<u64> {
        let _ = dir;
        None
    }

    /// Download progress: `done` bytes of `total` (when known). Default: nothing.
    fn progress(&mut self, package: &PackageInfo, done: u64, total: Option<u64>) {
        let _ = (package, done, total);
    }
}

/// The generic alert 1226 reporting `job`'s `result_code`: Meta Type of the operation,
/// Format `int`, Data the code, Source the Exec'd node, the Exec's Correlator, Mark
/// `critical` for a failure.
pub fn final_alert(job: &Job, result_code: u16) -> FinalAlert {
    FinalAlert {
        correlator: job.correlator.clone(),
        source: job.source.clone(),
        type_: job.operation.alert_type().to_owned(),
        format: "int".to_owned(),
        mark: (!result::is_success(result_code)).then(|| "critical".to_owned()),
        data: result_code.to_string(),
    }
}

/// The fields of a final notification (the agent turns it into its generic alert type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalAlert {
    /// The Exec's Correlator.
    pub correlator: Option<String>,
    /// Item Source.
    pub source: String,
    /// Meta Type.
    pub type_: String,
    /// Meta Format (`int`).
    pub format: String,
    /// Meta Mark.
    pub mark: Option<String>,
    /// Item Data: the result code.
    pub data: String,
}

/// A SHA-256 digest as the server gives it (`sha256:` + 64 hex digits, or the hex alone), as
/// lower-case hex; `None` when it is not one.
pub fn parse_digest(text: &str) -> Option<String> {
    let t = text.trim();
    let hex = t
        .strip_prefix("sha256:")
        .or_else(|| t.strip_prefix("SHA256:"))
        .unwrap_or(t);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

//! Firmware jobs: the reference server serves update packages over HTTPS (with `Range`) from
//! the same listener as DM, and a firmware job creates a FUMO package on the device, points it
//! at the file, and Execs `DownloadAndUpdate` with a Correlator. The device's final result
//! arrives as a generic alert 1226, which the engine records like every alert.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::jobs::Job;

/// Files the server serves by GET, and a switch to cut the first transfer short (to test
/// devices' resumption).
#[derive(Debug, Default)]
pub struct Downloads {
    files: Vec<(String, PathBuf)>,
    cut_first_after: Option<u64>,
    cut_done: AtomicBool,
    requests: AtomicU64,
    range_requests: AtomicU64,
}

impl Downloads {
    /// No files.
    pub fn new() -> Downloads {
        Downloads::default()
    }

    /// Serves `file` at the URL path `path` (`/fw/image.bin`).
    pub fn add(&mut self, path: &str, file: &Path) {
        self.files.push((path.to_owned(), file.to_owned()));
    }

    /// Ends the first transfer after `bytes` body bytes (the connection is closed).
    pub fn cut_first_transfer_after(&mut self, bytes: u64) {
        self.cut_first_after = Some(bytes);
    }

    /// The file served at `path`.
    pub(crate) fn file(&self, path: &str) -> Option<&Path> {
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, f)| f.as_path())
    }

    /// Counts a request; returns how many body bytes to send before cutting, if this one is
    /// to be cut.
    pub(crate) fn begin(&self, ranged: bool) -> Option<u64> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if ranged {
            self.range_requests.fetch_add(1, Ordering::SeqCst);
        }
        let cut = self.cut_first_after?;
        (!self.cut_done.swap(true, Ordering::SeqCst)).then_some(cut)
    }

    /// GET requests served so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Of those, requests with a `Range` (resumptions).
    pub fn range_requests(&self) -> u64 {
        self.range_requests.load(Ordering::SeqCst)
    }
}

/// A firmware update for devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareJob {
    /// The FUMO package node (`./FwUpdate/<x>`).
    pub node: String,
    /// Where the device downloads the package.
    pub url: String,
    /// PkgName.
    pub name: String,
    /// PkgVersion.
    pub version: String,
    /// SHA-256 of the package (hex), sent as `Ext/PkgDigest`.
    pub sha256: Option<String>,
    /// The Exec's Correlator.
    pub correlator: String,
}

impl FirmwareJob {
    /// The commands: create the package, name it, point DownloadAndUpdate at the URL, give
    /// the digest, and Exec DownloadAndUpdate with the Correlator.
    pub fn jobs(&self) -> Vec<Job> {
        let n = &self.node;
        let mut jobs = vec![
            Job::AddNode { uri: n.clone() },
            Job::Add {
                uri: format!("{n}/PkgName"),
                value: self.name.clone(),
            },
            Job::Add {
                uri: format!("{n}/PkgVersion"),
                value: self.version.clone(),
            },
            Job::Add {
                uri: format!("{n}/DownloadAndUpdate/PkgURL"),
                value: self.url.clone(),
            },
        ];
        if let Some(d) = &self.sha256 {
            jobs.push(Job::Add {
                uri: format!("{n}/Ext/PkgDigest"),
                value: format!("sha256:{d}"),
            });
        }
        jobs.push(Job::Exec {
            uri: format!("{n}/DownloadAndUpdate"),
            data: String::new(),
            correlator: Some(self.correlator.clone()),
        });
        jobs
    }
}

/// The SHA-256 of a file, as lower-case hex (the digest a firmware job sends).
pub use omadm_transport::sha256_file;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firmware_job_ends_with_a_correlated_exec_of_download_and_update() {
        let j = FirmwareJob {
            node: "./FwUpdate/p".into(),
            url: "https://s/fw/p.bin".into(),
            name: "OS".into(),
            version: "2".into(),
            sha256: Some("ab".repeat(32)),
            correlator: "c1".into(),
        };
        let jobs = j.jobs();
        assert_eq!(
            jobs[0],
            Job::AddNode {
                uri: "./FwUpdate/p".into()
            }
        );
        assert_eq!(
            jobs.last(),
            Some(&Job::Exec {
                uri: "./FwUpdate/p/DownloadAndUpdate".into(),
                data: String::new(),
                correlator: Some("c1".into()),
            })
        );
    }

    #[test]
    fn only_the_first_transfer_is_cut() {
        let mut d = Downloads::new();
        d.cut_first_transfer_after(10);
        assert_eq!(d.begin(false), Some(10));
        assert_eq!(d.begin(true), None);
        assert_eq!((d.requests(), d.range_requests()), (2, 1));
    }
}

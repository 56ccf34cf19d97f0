//! Pending generic alerts, kept on disk until a server acknowledges them (a FUMO result must
//! reach the server even across a reboot). One file, rewritten atomically (temporary file,
//! fsync, rename, directory fsync) on every change; each alert on one line of tab-separated,
//! percent-escaped fields.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use omadm_dpu::GenericAlert;

/// The pending alerts of one agent.
#[derive(Debug)]
pub struct PendingAlerts {
    path: PathBuf,
    alerts: Vec<(String, GenericAlert)>,
    next_id: u64,
}

fn esc(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\t', "%09")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

fn unesc(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%09", "\t")
        .replace("%25", "%")
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| unesc(s))
}

impl PendingAlerts {
    /// Loads `dir/alerts` (absent: none pending). A damaged line is an error.
    pub fn open(dir: &Path) -> std::io::Result<PendingAlerts> {
        let path = dir.join("alerts");
        let mut alerts = Vec::new();
        let mut next_id = 1;
        if let Ok(text) = fs::read_to_string(&path) {
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
                let f: Vec<&str> = line.split('\t').collect();
                if f.len() != 9 {
                    return Err(std::io::Error::other(format!(
                        "{}: line {} is damaged",
                        path.display(),
                        i + 1
                    )));
                }
                let id: u64 = f[1].parse().map_err(|_| {
                    std::io::Error::other(format!("{}: bad id on line {}", path.display(), i + 1))
                })?;
                next_id = next_id.max(id + 1);
                alerts.push((
                    unesc(f[0]),
                    GenericAlert {
                        id,
                        correlator: opt(f[2]),
                        source: opt(f[3]),
                        target: opt(f[4]),
                        type_: unesc(f[5]),
                        format: unesc(f[6]),
                        mark: opt(f[7]),
                        data: unesc(f[8]),
                    },
                ));
            }
        }
        Ok(PendingAlerts {
            path,
            alerts,
            next_id,
        })
    }

    fn save(&self) -> std::io::Result<()> {
        let mut text = String::new();
        for (server, a) in &self.alerts {
            let o = |v: &Option<String>| v.as_deref().map(esc).unwrap_or_default();
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                esc(server),
                a.id,
                o(&a.correlator),
                o(&a.source),
                o(&a.target),
                esc(&a.type_),
                esc(&a.format),
                o(&a.mark),
                esc(&a.data)
            ));
        }
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Adds an alert for `server_id` (its id is assigned here); durable on return.
    pub fn add(&mut self, server_id: &str, mut alert: GenericAlert) -> std::io::Result<u64> {
        alert.id = self.next_id;
        self.next_id += 1;
        let id = alert.id;
        self.alerts.push((server_id.to_owned(), alert));
        self.save()?;
        Ok(id)
    }

    /// Removes an acknowledged alert; durable on return.
    pub fn acknowledge(&mut self, id: u64) -> std::io::Result<()> {
        let before = self.alerts.len();
        self.alerts.retain(|(_, a)| a.id != id);
        if self.alerts.len() != before {
            self.save()?;
        }
        Ok(())
    }

    /// The alerts waiting for `server_id`.
    pub fn for_server(&self, server_id: &str) -> Vec<GenericAlert> {
        self.alerts
            .iter()
            .filter(|(s, _)| s == server_id)
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// Servers with alerts waiting.
    pub fn servers(&self) -> Vec<String> {
        let mut s: Vec<String> = self.alerts.iter().map(|(s, _)| s.clone()).collect();
        s.dedup();
        s
    }
}

impl omadm_dpu::AlertStore for PendingAlerts {
    fn acknowledge(&mut self, id: u64) -> Result<(), String> {
        PendingAlerts::acknowledge(self, id).map_err(|e| e.to_string())
    }
}

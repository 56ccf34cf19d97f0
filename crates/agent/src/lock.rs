//! One agent per state directory: an exclusive OS file lock (`flock`) on `DIR/lock`, held for
//! the agent's life. The lock file also names the holder's process id, for the error a second
//! opener gets; the OS drops the lock when the holder exits, however it exits, so a lock left
//! by a crash never blocks (the pid in the file is only information).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::AgentError;

/// The held lock; dropping it releases it.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Takes the lock of `dir` (created if needed), at once or not at all.
    pub fn acquire(dir: &Path) -> Result<StateLock, AgentError> {
        std::fs::create_dir_all(dir).map_err(AgentError::io(dir))?;
        let path = dir.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(AgentError::io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(AgentError::StateLocked {
                    dir: dir.to_owned(),
                    holder: text.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(AgentError::io(&path)(e)),
        }
        let write_pid = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.seek(SeekFrom::Start(0))?;
            writeln!(f, "{}", std::process::id())
        };
        write_pid(&mut file).map_err(AgentError::io(&path))?;
        Ok(StateLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_directory_is_refused_with_the_holders_pid() {
        let dir = std::env::temp_dir().join(format!("omadm-lock-{}", std::process::id()));
        let first = StateLock::acquire(&dir).unwrap();
        let second = StateLock::acquire(&dir).unwrap_err();
        match &second {
            AgentError::StateLocked { holder, .. } => {
                assert_eq!(*holder, Some(std::process::id()))
            }
            other => panic!("{other:?}"),
        }
        assert!(second.to_string().contains(&std::process::id().to_string()));
        drop(first);
        StateLock::acquire(&dir).expect("free again once released");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

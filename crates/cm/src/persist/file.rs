//! [`Storage`] in a directory: `tree.snap` and `tree.journal`, with fsync of files and of the
//! directory where POSIX needs it for durability of renames and new files.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Storage, Stored};

const SNAPSHOT: &str = "tree.snap";
const SNAPSHOT_TMP: &str = "tree.snap.tmp";
const JOURNAL: &str = "tree.journal";
const JOURNAL_TMP: &str = "tree.journal.tmp";

/// The tree's files in a directory the caller owns.
#[derive(Debug)]
pub struct FileStorage {
    dir: PathBuf,
    journal: Option<File>,
}

impl FileStorage {
    /// Uses `dir` (created if missing).
    pub fn open(dir: impl AsRef<Path>) -> io::Result<FileStorage> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        Ok(FileStorage { dir, journal: None })
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    fn read_optional(path: &Path) -> io::Result<Option<Vec<u8>>> {
        match fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Reads the snapshot and journal in `dir` (either may be missing).
fn load_dir(dir: &Path) -> io::Result<Stored> {
    let snapshot = FileStorage::read_optional(&dir.join(SNAPSHOT))?;
    let journal = FileStorage::read_optional(&dir.join(JOURNAL))?.unwrap_or_default();
    Ok(Stored { snapshot, journal })
}

/// A tree's files read, never written: for inspecting a state directory another process may
/// own (`omadm tree`). Loading tolerates a torn last record as [`FileStorage`] does; every
/// write fails with `PermissionDenied`, and nothing is created.
#[derive(Debug)]
pub struct ReadOnlyStorage {
    dir: PathBuf,
}

impl ReadOnlyStorage {
    /// The files in `dir` (a missing directory reads as an empty tree).
    pub fn open(dir: impl AsRef<Path>) -> ReadOnlyStorage {
        ReadOnlyStorage {
            dir: dir.as_ref().to_path_buf(),
        }
    }
}

impl Storage for ReadOnlyStorage {
    fn load(&mut self) -> io::Result<Stored> {
        load_dir(&self.dir)
    }

    fn append(&mut self, _: &[u8], _: Option<u64>) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the tree was opened read-only",
        ))
    }

    fn replace_snapshot(&mut self, _: &[u8], _: &[u8]) -> io::Result<()> {
        self.append(&[], None)
    }
}

impl Storage for FileStorage {
    fn load(&mut self) -> io::Result<Stored> {
        load_dir(&self.dir)
    }

    fn append(&mut self, bytes: &[u8], truncate_to: Option<u64>) -> io::Result<()> {
        if self.journal.is_none() {
            let path = self.dir.join(JOURNAL);
            let existed = path.exists();
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            if !existed {
                self.sync_dir()?;
            }
            self.journal = Some(file);
        }
        let file = self.journal.as_mut().expect("opened above");
        if let Some(len) = truncate_to {
            file.set_len(len)?;
        }
        file.write_all(bytes)?;
        file.sync_data()
    }

    fn replace_snapshot(&mut self, snapshot: &[u8], journal_header: &[u8]) -> io::Result<()> {
        let tmp = self.dir.join(SNAPSHOT_TMP);
        {
            let mut f = File::create(&tmp)?;
            f.write_all(snapshot)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.dir.join(SNAPSHOT))?;
        self.sync_dir()?;
        // The old journal is now stale (older generation); replace it the same way.
        self.journal = None;
        let tmp = self.dir.join(JOURNAL_TMP);
        {
            let mut f = File::create(&tmp)?;
            f.write_all(journal_header)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.dir.join(JOURNAL))?;
        self.sync_dir()
    }
}

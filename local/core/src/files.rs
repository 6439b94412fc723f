//! Files the local stack keeps in its data directory: written atomically (a reader or a crash sees the old file or
//! the new one, never half of one) and readable by their owner only, since they hold every user's data.

use rand::Rng;
use std::{
    fs,
    io::{self, Write},
    path::Path,
};

/// Open options that give a file they create to its owner only (0600); the caller adds how it opens it
/// (`.create(true).append(true)`, …). An existing file keeps its permissions.
pub fn private_open_options() -> fs::OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut opts = fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Options for a new file only its owner may read and write.
fn private_options() -> fs::OpenOptions {
    let mut opts = private_open_options();
    opts.write(true).create(true).truncate(true);
    opts
}

/// Creates `path` empty and private if it is not there; an existing file is left as it is. For files another
/// library creates by itself, SQLite above all: it creates a database with the process's umask (0644 as a rule),
/// but gives an existing one's permissions to the `-wal` and `-shm` files it makes beside it, so a database created
/// here first stays private along with them.
pub fn create_private_file(path: &Path) -> io::Result<()> {
    private_open_options().create(true).append(true).open(path).map(drop)
}

fn private_dir_builder(recursive: bool) -> fs::DirBuilder {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(recursive);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
}

/// Creates `dir` (and its parents) readable by its owner only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    private_dir_builder(true).create(dir)
}

/// Creates `dir`, readable by its owner only, failing with [`io::ErrorKind::AlreadyExists`] if it is there: for a
/// directory whose creation claims something (an execution's name).
pub fn create_new_private_dir(dir: &Path) -> io::Result<()> {
    private_dir_builder(false).create(dir)
}

/// A temporary name beside `path`, unique to this process and call.
fn temporary_beside(path: &Path) -> std::path::PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    dir.join(format!(".{name}.{}.{:016x}.tmp", std::process::id(), rand::rng().random::<u64>()))
}

/// Replaces `path` with `bytes` atomically: a private temporary file beside it, synced, renamed over it, and the
/// directory synced so the rename itself survives a power cut.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary_beside(path);
    let written = (|| {
        let mut f = private_options().open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(path.parent().unwrap_or(Path::new(".")))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Syncs a directory, so that renames and creations in it are durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The secret at `path`, created with `len` random bytes on first use. Creation is atomic (write a temporary file,
/// then hard-link it into place, which fails if another process won), so two processes starting together agree.
pub fn load_or_create_secret(path: &Path, len: usize) -> io::Result<Vec<u8>> {
    if let Ok(bytes) = fs::read(path) {
        return Ok(bytes);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let mut bytes = vec![0u8; len];
    rand::rng().fill(&mut bytes[..]);
    let tmp = temporary_beside(path);
    let mut f = private_options().open(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(bytes),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => fs::read(path),
        Err(e) => Err(e),
    }
}

/// Like [`load_or_create_secret`], as text (alphanumeric), for secrets that travel in environment variables.
pub fn load_or_create_text_secret(path: &Path, len: usize) -> io::Result<String> {
    let raw = load_or_create_secret(path, len)?;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Ok(raw.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new and longer").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new and longer");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn files_and_directories_made_here_are_private_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a").join("b");
        create_private_dir(&nested).unwrap();
        let claimed = nested.join("claimed");
        create_new_private_dir(&claimed).unwrap();
        assert_eq!(create_new_private_dir(&claimed).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        let db = nested.join("db.sqlite3");
        create_private_file(&db).unwrap();
        let log = nested.join("log");
        private_open_options().create(true).append(true).open(&log).unwrap();
        for d in [dir.path().join("a"), nested.clone(), claimed] {
            assert_eq!(mode(&d), 0o700, "{}", d.display());
        }
        for f in [&db, &log] {
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
    }

    #[test]
    fn creating_a_private_file_that_exists_keeps_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        write_atomic(&path, b"data").unwrap();
        create_private_file(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"data");
    }

    #[test]
    fn a_secret_is_created_once_and_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("k");
        let a = load_or_create_secret(&path, 32).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(load_or_create_secret(&path, 32).unwrap(), a);
    }
}

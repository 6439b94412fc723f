//! Files the local stack keeps in its data directory: signing keys and secrets, created once, atomically.

use rand::Rng;
use std::{fs, io, path::Path};

/// The secret at `path`, created with `len` random bytes on first use. Creation is atomic (write a temporary file,
/// then hard-link it into place, which fails if another process won), so two processes starting together agree.
pub fn load_or_create_secret(path: &Path, len: usize) -> io::Result<Vec<u8>> {
    if let Ok(bytes) = fs::read(path) {
        return Ok(bytes);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut bytes = vec![0u8; len];
    rand::rng().fill(&mut bytes[..]);
    let tmp = dir.join(format!(".{}.{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("secret"), std::process::id()));
    write_private(&tmp, &bytes)?;
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

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

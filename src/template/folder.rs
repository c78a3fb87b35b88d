//! A folder as the asset steps read it: its regular files, sorted, and content addresses (sha256
//! as lowercase hex). Both the asset zip (`asset.rs`) and the package build (`bundle.rs`) stand
//! on it, so neither reaches into the other.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Every regular file under `dir`, as sorted relative paths with `/` separators.
pub fn files(dir: &Path) -> Result<Vec<(String, PathBuf)>, std::io::Error> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                out.push((rel, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `root/rel`, if it stays inside the project `root` once `..` and links are resolved: an asset
/// folder is the project's own code, never `/etc` or a home folder zipped into a package and
/// uploaded (issue 36). A folder that does not exist yet is left to the caller to report.
pub fn inside(root: &Path, rel: &Path) -> Result<PathBuf, String> {
    if rel.is_absolute() {
        return Err(format!("{} is an absolute path", rel.display()));
    }
    let path = root.join(rel);
    let (Ok(real_root), Ok(real)) = (root.canonicalize(), path.canonicalize()) else {
        if rel.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(format!("{} leaves the project folder", rel.display()));
        }
        return Ok(path);
    };
    if real.starts_with(&real_root) {
        Ok(path)
    } else {
        Err(format!("{} leads to {}, outside the project folder", rel.display(), real.display()))
    }
}

/// Lowercase hex of bytes.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

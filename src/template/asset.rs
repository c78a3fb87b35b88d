//! Content-addressed assets: a folder zipped deterministically (sorted entries, fixed
//! timestamps and modes), named by the sha256 of the zip's bytes.

use super::folder::{files, sha256_hex};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("asset folder {path} cannot be read: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("asset folder {path} is not the project's: {why}")]
    Outside { path: String, why: String },
    #[error("asset folder {path} holds no files")]
    Empty { path: String },
    #[error("asset {path} could not be zipped: {message}")]
    Zip { path: String, message: String },
    #[error(transparent)]
    Bundle(#[from] super::bundle::BundleError),
}

/// A zipped folder and its content address.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// The folder, relative to the project root, as written in the environment file.
    pub source: PathBuf,
    /// Lowercase hex sha256 of the zip.
    pub sha256: String,
    /// The object key in the state bucket: `assets/<sha256>.zip`.
    pub key: String,
    pub size: usize,
    /// The size of its files, unzipped.
    pub unzipped: usize,
    /// Files rendered at synth time and added to the folder's (replacing a file of the same
    /// name): the edge function's per-environment module.
    pub generated: Vec<(String, Vec<u8>)>,
}

/// The text files of an asset's package (its folder with the rendered files in place), for the
/// code rules; binary files and unreadable ones are left out. `None` when the folder cannot be
/// read (the deploy's asset step says so).
pub fn texts(root: &Path, asset: &Asset) -> Option<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = files(&root.join(&asset.source))
        .ok()?
        .into_iter()
        .filter(|(name, _)| !asset.generated.iter().any(|(g, _)| g == name))
        .filter_map(|(name, path)| Some((name, String::from_utf8(std::fs::read(path).ok()?).ok()?)))
        .collect();
    out.extend(asset.generated.iter().filter_map(|(n, b)| Some((n.clone(), String::from_utf8(b.clone()).ok()?))));
    out.sort();
    (!out.is_empty()).then_some(out)
}

/// Zips `root/source` deterministically: the same files give the same bytes on any machine.
pub fn zip_folder(root: &Path, source: &Path) -> Result<(Vec<u8>, Asset), AssetError> {
    zip_with(root, source, &[])
}

/// Zips an asset again, as synth built it (its folder and its generated files).
pub fn zip_asset(root: &Path, asset: &Asset) -> Result<(Vec<u8>, Asset), AssetError> {
    zip_with(root, &asset.source, &asset.generated)
}

/// Zips `root/source` plus `generated` files (name, bytes), deterministically.
pub fn zip_with(root: &Path, source: &Path, generated: &[(String, Vec<u8>)]) -> Result<(Vec<u8>, Asset), AssetError> {
    let shown = source.display().to_string();
    super::folder::inside(root, source).map_err(|why| AssetError::Outside { path: shown.clone(), why })?;
    // a folder with a package.json is zipped as its bundle (dependencies installed, esbuild)
    let dir = super::bundle::package_dir(root, source)?;
    let read = |e| AssetError::Read { path: shown.clone(), source: e };
    let mut entries: Vec<(String, Option<PathBuf>)> =
        files(&dir).map_err(read)?.into_iter().map(|(n, p)| (n, Some(p))).collect();
    if entries.is_empty() {
        return Err(AssetError::Empty { path: shown });
    }
    for (name, _) in generated {
        entries.retain(|(n, _)| n != name);
        entries.push((name.clone(), None));
    }
    entries.sort();
    let zerr = |e: zip::result::ZipError| AssetError::Zip { path: shown.clone(), message: e.to_string() };
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut unzipped = 0;
    for (name, path) in &entries {
        let bytes = match path {
            Some(path) => {
                std::fs::read(path).map_err(|e| AssetError::Read { path: format!("{shown}/{name}"), source: e })?
            }
            None => generated.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone()).unwrap_or_default(),
        };
        unzipped += bytes.len();
        w.start_file(name.as_str(), opts).map_err(zerr)?;
        w.write_all(&bytes).map_err(|e| AssetError::Zip { path: shown.clone(), message: e.to_string() })?;
    }
    let bytes = w.finish().map_err(zerr)?.into_inner();
    let sha256 = sha256_hex(&bytes);
    let asset = Asset {
        source: source.to_path_buf(),
        key: format!("assets/{sha256}.zip"),
        sha256,
        size: bytes.len(),
        generated: generated.to_vec(),
        unzipped,
    };
    Ok((bytes, asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_files_give_the_same_bytes_whatever_the_mtime() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/sub")).unwrap();
        std::fs::write(dir.path().join("a/index.mjs"), "export const x = 1;").unwrap();
        std::fs::write(dir.path().join("a/sub/b.mjs"), "b").unwrap();
        let (one, a1) = zip_folder(dir.path(), Path::new("a")).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("a/index.mjs"), "export const x = 1;").unwrap();
        let (two, a2) = zip_folder(dir.path(), Path::new("a")).unwrap();
        assert_eq!(one, two);
        assert_eq!(a1, a2);
        assert_eq!(a1.key, format!("assets/{}.zip", a1.sha256));
        std::fs::write(dir.path().join("a/index.mjs"), "export const x = 2;").unwrap();
        let (_, a3) = zip_folder(dir.path(), Path::new("a")).unwrap();
        assert_ne!(a1.sha256, a3.sha256);
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(one)).unwrap();
        assert_eq!(z.by_index(0).unwrap().name(), "index.mjs");
        assert_eq!(z.by_index(1).unwrap().name(), "sub/b.mjs");
    }

    #[test]
    fn generated_files_join_or_replace_the_folders_and_change_the_address() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("edge")).unwrap();
        std::fs::write(dir.path().join("edge/index.mjs"), "import c from './config.mjs';").unwrap();
        std::fs::write(dir.path().join("edge/config.mjs"), "export default {};").unwrap();
        let (_, plain) = zip_folder(dir.path(), Path::new("edge")).unwrap();
        let dev = vec![("config.mjs".to_string(), b"export default {table: 'dev'};".to_vec())];
        let prod = vec![("config.mjs".to_string(), b"export default {table: 'prod'};".to_vec())];
        let (bytes, a_dev) = zip_with(dir.path(), Path::new("edge"), &dev).unwrap();
        let (_, a_prod) = zip_with(dir.path(), Path::new("edge"), &prod).unwrap();
        assert_ne!(plain.sha256, a_dev.sha256);
        assert_ne!(a_dev.sha256, a_prod.sha256);
        assert_eq!(zip_asset(dir.path(), &a_dev).unwrap().1, a_dev, "rebuilding gives the same address");
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(z.len(), 2, "the generated file replaced the folder's");
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name("config.mjs").unwrap(), &mut s).unwrap();
        assert_eq!(s, "export default {table: 'dev'};");
    }

    #[test]
    fn missing_and_empty_folders_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(zip_folder(dir.path(), Path::new("nope")), Err(AssetError::Read { .. })));
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        let e = zip_folder(dir.path(), Path::new("empty")).unwrap_err();
        assert_eq!(e.to_string(), "asset folder empty holds no files");
    }
}

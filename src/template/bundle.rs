//! Function folders with a `package.json` are built the way CDK's NodejsFunction and SAM build
//! them: the dependencies installed from the lock file (`npm ci`, no dev dependencies, no install
//! scripts), the handler bundled with esbuild (pinned: 0.28.2), the AWS SDK v3 left out because
//! the Node.js runtime includes it, a source map kept. The build is cached by the content address
//! of the folder (its files outside `node_modules`, the lock file included) and esbuild's version,
//! so the same sources give the same bytes, and a second synth does not build again.

use super::folder::{files, sha256_hex};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The esbuild castform bundles with; another version is refused (the zip must not change with
/// the machine).
pub const ESBUILD_VERSION: &str = "0.28.2";

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{folder}: {problem}\nhelp: {help}")]
    Refused { folder: String, problem: String, help: String },
}

fn refused(folder: &str, problem: impl Into<String>, help: impl Into<String>) -> BundleError {
    BundleError::Refused { folder: folder.to_string(), problem: problem.into(), help: help.into() }
}

/// The esbuild binary: `CASTFORM_ESBUILD`, the project's `.tools/esbuild` (scripts/setup-esbuild),
/// or `esbuild` on PATH; it must be the pinned version.
fn esbuild(root: &Path, folder: &str) -> Result<PathBuf, BundleError> {
    let candidates: Vec<PathBuf> = std::env::var_os("CASTFORM_ESBUILD")
        .map(PathBuf::from)
        .into_iter()
        .chain([root.join(".tools/esbuild/node_modules/.bin/esbuild"), PathBuf::from("esbuild")])
        .collect();
    for c in &candidates {
        let Ok(out) = Command::new(c).arg("--version").output() else { continue };
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if version == ESBUILD_VERSION {
            return Ok(c.clone());
        }
        return Err(refused(
            folder,
            format!(
                "has a package.json, and the esbuild found ({}) is {version}, not the pinned {ESBUILD_VERSION}",
                c.display()
            ),
            format!("run scripts/setup-esbuild, or point CASTFORM_ESBUILD at esbuild {ESBUILD_VERSION}"),
        ));
    }
    Err(refused(
        folder,
        format!("has a package.json, so castform bundles it with esbuild {ESBUILD_VERSION}, which is not installed"),
        "run scripts/setup-esbuild (it needs npm), or set CASTFORM_ESBUILD",
    ))
}

/// Files of the folder outside `node_modules`, sorted, with their bytes.
fn sources(dir: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    files(dir)?
        .into_iter()
        .filter(|(name, _)| !name.starts_with("node_modules/") && !name.contains("/node_modules/"))
        .map(|(name, path)| Ok((name, std::fs::read(path)?)))
        .collect()
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(6)..].join("\n  ")
}

/// The folder to zip for `root/source`: itself, or, where it has a `package.json`, the bundle
/// built from it (cached under `.castform/build/<address>/out`).
pub fn package_dir(root: &Path, source: &Path) -> Result<PathBuf, BundleError> {
    let dir = root.join(source);
    if !dir.join("package.json").is_file() {
        return Ok(dir);
    }
    let folder = source.display().to_string();
    let package = Package::read(&dir, &folder)?;
    let files = sources(&dir)
        .map_err(|e| refused(&folder, format!("cannot be read: {e}"), "check the folder's permissions"))?;
    let build = root.join(".castform/build").join(address(&files));
    let out = build.join("out");
    if build.join("done").is_file() {
        return Ok(out);
    }
    let esbuild = esbuild(root, &folder)?;
    let work = build.join("work");
    let _ = std::fs::remove_dir_all(&build);
    let io = |e: std::io::Error| {
        refused(&folder, format!("the build folder cannot be written: {e}"), "check that .castform/ is writable")
    };
    for (name, content) in &files {
        let path = work.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, content).map_err(io)?;
    }
    if package.has_dependencies() {
        npm_ci(&work, &folder)?;
    }
    std::fs::create_dir_all(&out).map_err(io)?;
    bundle(&esbuild, &package, &work, &out, &folder)?;
    let _ = std::fs::remove_dir_all(&work);
    std::fs::write(build.join("done"), b"").map_err(io)?;
    Ok(out)
}

/// A function folder's `package.json` and the handler's file esbuild starts from.
struct Package {
    json: serde_json::Value,
    entry: &'static str,
}

impl Package {
    /// The folder's `package.json`, which must parse, sit beside a lock file and name a handler
    /// file castform can find.
    fn read(dir: &Path, folder: &str) -> Result<Self, BundleError> {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("package.json")).unwrap_or_default())
                .map_err(|e| refused(folder, format!("package.json is not valid JSON: {e}"), "fix package.json"))?;
        if !dir.join("package-lock.json").is_file() {
            return Err(refused(
                folder,
                "has a package.json without a package-lock.json: castform installs exactly what the lock file names (npm ci)",
                format!("run `npm install` in {folder} and commit package-lock.json"),
            ));
        }
        let entry = ["index.mjs", "index.js", "index.cjs", "index.ts"]
            .into_iter()
            .find(|e| dir.join(e).is_file())
            .ok_or_else(|| {
                refused(
                    folder,
                    "has a package.json but no index.mjs, index.js, index.cjs or index.ts to bundle",
                    "name the handler's file index.* (Handler: index.handler)",
                )
            })?;
        Ok(Self { json, entry })
    }

    fn has_dependencies(&self) -> bool {
        self.json["dependencies"].as_object().is_some_and(|d| !d.is_empty())
    }

    /// ESM stays ESM (index.mjs, or "type": "module"); CommonJS stays CommonJS.
    fn is_esm(&self) -> bool {
        self.entry.ends_with(".mjs") || self.json["type"] == "module"
    }
}

/// The build's content address: esbuild's version and each source file's name and sha256.
fn address(files: &[(String, Vec<u8>)]) -> String {
    let mut bytes = format!("esbuild {ESBUILD_VERSION}\n").into_bytes();
    for (name, content) in files {
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(sha256_hex(content).as_bytes());
        bytes.push(b'\n');
    }
    sha256_hex(&bytes)
}

/// Installs the dependencies in `work` exactly as the lock file names them, without dev
/// dependencies or install scripts.
fn npm_ci(work: &Path, folder: &str) -> Result<(), BundleError> {
    let npm = Command::new("npm")
        .args(["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(work)
        .output()
        .map_err(|e| {
            refused(
                folder,
                format!("npm cannot be run ({e}): its package.json has dependencies to install"),
                "install Node.js 20 or later with npm",
            )
        })?;
    if !npm.status.success() {
        return Err(refused(
            folder,
            format!("npm ci failed:\n  {}", tail(&npm.stderr)),
            format!(
                "run `npm install` in {folder} to bring package-lock.json up to date with package.json, and commit it"
            ),
        ));
    }
    Ok(())
}

/// Bundles the handler in `work` into `out` (`index.mjs` or `index.js`, with its source map).
fn bundle(esbuild: &Path, package: &Package, work: &Path, out: &Path, folder: &str) -> Result<(), BundleError> {
    let esm = package.is_esm();
    let outfile = if esm { "index.mjs" } else { "index.js" };
    let bundled = Command::new(esbuild)
        .arg(package.entry)
        .args([
            "--bundle",
            "--platform=node",
            "--target=node20",
            if esm { "--format=esm" } else { "--format=cjs" },
            "--external:@aws-sdk/*",
            "--sourcemap",
            "--sources-content=false",
            "--legal-comments=none",
            "--log-level=error",
        ])
        .arg(format!("--outfile={}", out.join(outfile).display()))
        .current_dir(work)
        .output()
        .map_err(|e| refused(folder, format!("esbuild cannot be run: {e}"), "run scripts/setup-esbuild"))?;
    if !bundled.status.success() {
        return Err(refused(
            folder,
            format!("esbuild failed:\n  {}", tail(&bundled.stderr)),
            format!("fix the code in {folder} (esbuild's message above)"),
        ));
    }
    Ok(())
}

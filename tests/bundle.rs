//! Function folders with a package.json are installed from their lock file and bundled with the
//! pinned esbuild (scripts/setup-esbuild installs it; CI runs it), deterministically and once.

use std::io::Read;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A project root holding the fixture function as `fn/`, and esbuild pointed at the repo's.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = repo().join("tests/fixtures/functions/with-dep");
    std::fs::create_dir_all(dir.path().join("fn")).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join("fn").join(e.file_name())).unwrap();
    }
    // SAFETY: each test runs in its own process (nextest), before any thread reads the environment
    unsafe { std::env::set_var("CASTFORM_ESBUILD", repo().join(".tools/esbuild/node_modules/.bin/esbuild")) };
    dir
}

fn entries(zip: &[u8]) -> Vec<(String, String)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            (f.name().to_string(), text)
        })
        .collect()
}

#[test]
fn a_function_with_an_npm_dependency_is_bundled_once_deterministically_and_runs() {
    let dir = project();
    let (zip, asset) = castform::template::zip_folder(dir.path(), Path::new("fn")).unwrap();
    let files = entries(&zip);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    // the bundle and its source map; no node_modules, no package files, no tarball
    assert_eq!(names, ["index.mjs", "index.mjs.map"]);
    let code = &files[0].1;
    assert!(code.contains("from an npm dependency"), "the dependency is inside the bundle");
    assert!(!code.contains("require(\"greet\")") && !code.contains("from 'greet'"), "no import left to resolve");
    // the same sources give the same bytes; the build is cached by their address
    let (again, second) = castform::template::zip_folder(dir.path(), Path::new("fn")).unwrap();
    assert_eq!((again, second.sha256), (zip.clone(), asset.sha256.clone()));
    let builds: Vec<_> = std::fs::read_dir(dir.path().join(".castform/build")).unwrap().collect();
    assert_eq!(builds.len(), 1);
    // and the handler runs under Node.js with its dependency
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("index.mjs"), code).unwrap();
    let out = std::process::Command::new("node")
        .arg("--input-type=module")
        .arg("-e")
        .arg("const m = await import('./index.mjs'); const r = await m.handler({rawPath: '/podcast'}); console.log(r.statusCode, r.body);")
        .current_dir(&run)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "200 hello /podcast, from an npm dependency",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // a change to the code is a new build and a new address
    let index = dir.path().join("fn/index.mjs");
    std::fs::write(&index, std::fs::read_to_string(&index).unwrap().replace("statusCode: 200", "statusCode: 201"))
        .unwrap();
    let (_, changed) = castform::template::zip_folder(dir.path(), Path::new("fn")).unwrap();
    assert_ne!(changed.sha256, asset.sha256);
}

#[test]
fn a_missing_or_stale_lock_file_and_a_missing_esbuild_are_refused_with_the_command_to_run() {
    let dir = project();
    let lock = dir.path().join("fn/package-lock.json");
    let text = std::fs::read_to_string(&lock).unwrap();
    std::fs::remove_file(&lock).unwrap();
    let err = castform::template::zip_folder(dir.path(), Path::new("fn")).unwrap_err().to_string();
    assert!(err.starts_with("fn: has a package.json without a package-lock.json"), "{err}");
    assert!(err.contains("run `npm install` in fn"), "{err}");
    // a dependency in package.json that the lock file does not have
    std::fs::write(&lock, text).unwrap();
    let pkg = dir.path().join("fn/package.json");
    let p = std::fs::read_to_string(&pkg)
        .unwrap()
        .replace(r#""greet": "file:greet-1.0.0.tgz""#, r#""greet": "file:greet-1.0.0.tgz", "left-pad": "1.3.0""#);
    std::fs::write(&pkg, p).unwrap();
    let err = castform::template::zip_folder(dir.path(), Path::new("fn")).unwrap_err().to_string();
    assert!(err.contains("npm ci failed") && err.contains("bring package-lock.json up to date"), "{err}");
    // no esbuild anywhere
    unsafe {
        std::env::set_var("CASTFORM_ESBUILD", "/nonexistent/esbuild");
        std::env::set_var("PATH", "/usr/bin:/bin");
    }
    let err = castform::template::zip_folder(dir.path(), Path::new("fn")).unwrap_err().to_string();
    assert!(err.contains("esbuild 0.28.2, which is not installed") && err.contains("scripts/setup-esbuild"), "{err}");
}

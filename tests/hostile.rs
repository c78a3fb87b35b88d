//! Hostile input (issue 36): what a careless or hostile user types, a file holds or a server on
//! 127.0.0.1 answers. Each case asserts the exit code, the message, that nothing panicked or hung,
//! and that nothing outside castform's own folders (`out/`, `.castform/`) changed.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A temp dir holding a copy of the project's inputs under `proj/`, so a case can put the user's
/// own files beside it and prove they were left alone.
fn sandbox() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("proj");
    for sub in ["environments", "assets", "templates"] {
        copy_dir(&repo().join(sub), &proj.join(sub));
    }
    (dir, proj)
}

/// Every file under `dir` with its bytes, castform's own folders (`out/`, `.castform/`) left out.
fn files_outside_castform(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if name == "out" || name == ".castform" {
                continue;
            }
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.insert(e.path().strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(e.path()).unwrap());
            } else {
                out.insert(e.path().strip_prefix(dir).unwrap().to_path_buf(), b"<special>".to_vec());
            }
        }
    }
    out
}

/// The binary with `args`, its environment cleared of AWS settings but for `envs`, killed after
/// `limit` (a hang is a failure, not a stuck suite).
fn run_with<S: AsRef<OsStr>>(args: &[S], root: &Path, envs: &[(&str, &OsStr)], limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_castform"));
    cmd.args(args).arg("--root").arg(root).env("NO_COLOR", "1");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", root).env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("castform {:?} did not end within {limit:?}", args.iter().map(|a| a.as_ref()).collect::<Vec<_>>())
        }
    }
}

fn run(args: &[&str], root: &Path) -> Output {
    run_with(args, root, &[], Duration::from_secs(60))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// The exit code, and no panic in either stream.
fn code(out: &Output) -> i32 {
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out));
    assert!(!all.contains("panicked at"), "castform panicked:\n{all}");
    out.status.code().unwrap_or(-1)
}

fn set_key(file: &Path, key: &str, value: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = lines.iter().position(|l| l.starts_with(&format!("{key}:"))).unwrap();
    lines[at] = format!("{key}: {value}");
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

/// Issue 36: `castform synth ../../precious` with a matching file replaced a folder outside
/// `out/` with templates and exited 0; `deploy` took such names too.
#[test]
fn an_environment_name_that_is_a_path_is_refused_before_anything_is_read_or_written() {
    let (dir, proj) = sandbox();
    std::fs::create_dir_all(proj.join("precious")).unwrap();
    std::fs::write(proj.join("precious/thesis.txt"), "years of work").unwrap();
    // the file the name leads to: environments/lunora/../../precious.yaml
    std::fs::copy(proj.join("environments/lunora/dev.yaml"), proj.join("precious.yaml")).unwrap();
    set_key(&proj.join("precious.yaml"), "name", "\"../../precious\"");
    let before = files_outside_castform(dir.path());
    for cmd in ["synth", "deploy", "diff", "status", "check", "unlock", "gc", "rollback"] {
        let mut args = vec![cmd, "../../precious"];
        if cmd == "unlock" {
            args.push("--force");
        }
        let out = run(&args, &proj);
        assert_eq!(code(&out), 2, "{cmd}: {}", stderr(&out));
        assert!(stderr(&out).contains("\"../../precious\" is not an environment name"), "{cmd}: {}", stderr(&out));
        assert!(stderr(&out).contains("help: name an environment by its file"), "{cmd}: {}", stderr(&out));
    }
    for bad in ["/etc/passwd", "a/b", ".", "..", "-rf", "x.y", ""] {
        let out = run(&["synth", bad], &proj);
        assert_eq!(code(&out), 2, "{bad:?}: {}", stderr(&out));
    }
    assert_eq!(files_outside_castform(dir.path()), before, "files outside out/ and .castform/ changed");
    assert!(!proj.join("out").exists(), "nothing was written");
}

/// Issue 36: synth replaced `<out>/<app>/<env>/` whatever it held, so `--out ~` took a user's
/// folder of that name with it.
#[test]
fn synth_never_replaces_a_folder_it_did_not_write() {
    let (dir, proj) = sandbox();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join("lunora/dev/drafts")).unwrap();
    std::fs::write(home.join("lunora/dev/notes.txt"), "mine").unwrap();
    let before = files_outside_castform(dir.path());
    let out = run(&["synth", "dev", "--out", home.to_str().unwrap()], &proj);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("lunora/dev holds `") && err.contains("which synth did not write; nothing was replaced"),
        "{err}"
    );
    assert!(err.contains("help: choose another --out"), "{err}");
    assert_eq!(files_outside_castform(dir.path()), before);
    // a folder synth wrote is replaced as before
    let ok = run(&["synth", "dev"], &proj);
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));
    let again = run(&["synth", "dev"], &proj);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(proj.join("out/lunora/dev/manifest.json").is_file());
}

/// Issue 36: `api.code: /etc` was zipped into the Lambda package.
#[test]
fn an_asset_folder_outside_the_project_is_refused() {
    let (dir, proj) = sandbox();
    std::os::unix::fs::symlink("/etc", proj.join("assets/etc-link")).unwrap();
    let before = files_outside_castform(dir.path());
    for code_dir in ["/etc", "../../../../etc", "assets/etc-link"] {
        let file = proj.join("environments/lunora/dev.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace("api:\n", &format!("api:\n  code: {code_dir}\n"))).unwrap();
        let out = run(&["synth", "dev"], &proj);
        std::fs::write(&file, text).unwrap();
        assert_eq!(code(&out), 2, "{code_dir}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("environments/lunora/dev.yaml:") && err.contains("`api.code` is"), "{code_dir}: {err}");
        assert!(err.contains("keep its folder under the project root"), "{code_dir}: {err}");
    }
    assert_eq!(files_outside_castform(dir.path()), before);
    assert!(!proj.join("out/lunora/dev").exists());
}

/// Issue 36: a variable of the environment that is not UTF-8 panicked every command.
#[test]
fn a_variable_that_is_not_utf8_is_no_panic() {
    use std::os::unix::ffi::OsStrExt;
    let (_dir, proj) = sandbox();
    let bad = OsStr::from_bytes(b"\xff\xfe");
    let out = run_with(&["synth", "dev"], &proj, &[("CASTFORM_HOSTILE", bad)], Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let arg = OsStr::from_bytes(b"de\xffv");
    let out = run_with(&[OsStr::new("synth"), arg], &proj, &[], Duration::from_secs(60));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid UTF-8"), "{}", stderr(&out));
}

/// Issue 36: concurrent synth runs into one folder shared one staging folder and lost an
/// environment while each reported success.
#[test]
fn concurrent_synth_runs_into_one_folder_lose_nothing() {
    let (_dir, proj) = sandbox();
    let children: Vec<_> = (0..6)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_castform"))
                .args(["synth", "--all", "--root"])
                .arg(&proj)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    for app in ["lunora", "streamcanvas", "podcast"] {
        for e in std::fs::read_dir(proj.join("environments").join(app)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().trim_end_matches(".yaml").to_string();
            let dir = proj.join("out").join(app).join(&name);
            assert!(dir.join("manifest.json").is_file(), "{app}/{name} lost");
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(proj.join("out/lunora"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.') && n != ".synth.lock")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Issue 36: an environment file or template that is `/dev/zero` or a FIFO was read without end
/// (past 20 GB) or blocked forever.
#[test]
fn files_that_never_end_are_refused_not_read() {
    let (dir, proj) = sandbox();
    let envs = proj.join("environments/lunora");
    std::os::unix::fs::symlink("/dev/zero", envs.join("zero.yaml")).unwrap();
    assert!(Command::new("mkfifo").arg(envs.join("fifo.yaml")).status().unwrap().success());
    let mut big = std::fs::read_to_string(envs.join("dev.yaml")).unwrap();
    big.push_str(&format!("# {}\n", "x".repeat(2 << 20)));
    std::fs::write(envs.join("big.yaml"), big).unwrap();
    let before = files_outside_castform(dir.path());
    for env in ["zero", "fifo", "big"] {
        let out = run_with(&["synth", env], &proj, &[], Duration::from_secs(30));
        assert_eq!(code(&out), 2, "{env}: {}", stderr(&out));
        assert!(stderr(&out).contains("cannot read the environment file: it is"), "{env}: {}", stderr(&out));
    }
    for t in ["/dev/zero", envs.join("fifo.yaml").to_str().unwrap()] {
        let out = run_with(&["check", "--template", t], &proj, &[], Duration::from_secs(30));
        assert_eq!(code(&out), 2, "{t}: {}", stderr(&out));
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(all.contains("it is not a regular file"), "{t}: {all}");
    }
    assert_eq!(files_outside_castform(dir.path()), before);
}

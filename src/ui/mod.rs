//! The one place that prints: messages, errors with their `help:` lines, colour only on a
//! terminal (and never with `NO_COLOR`); every line through [`redact::redact`], so no secret
//! reaches a terminal, a log or a pipeline.

use std::io::IsTerminal;

/// Whether stdout gets colour.
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn colour_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

pub fn paint(on: bool, code: &str, text: &str) -> String {
    if on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

pub fn red(on: bool, t: &str) -> String {
    paint(on, "31;1", t)
}
pub fn yellow(on: bool, t: &str) -> String {
    paint(on, "33;1", t)
}
pub fn green(on: bool, t: &str) -> String {
    paint(on, "32;1", t)
}
pub fn bold(on: bool, t: &str) -> String {
    paint(on, "1", t)
}
pub fn dim(on: bool, t: &str) -> String {
    paint(on, "2", t)
}

/// Set once stdout's reader has gone away: later output is dropped.
static READER_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A line of normal output. A reader that went away (`castform diff prod | head`) ends the output
/// quietly, never a panic; the command still ends with its own exit code (review S3-40: `diff`
/// exited 0 through `| head` though the stacks differed, and a command cut short there never
/// finished what it was doing).
pub fn say(text: &str) {
    write_stdout(text);
}

/// The first failure to write stdout other than a reader that went away: a full disk, a
/// quota, an I/O error. The run then cannot end 0, as its output is incomplete (issue 36:
/// `castform synth --all > /dev/full` exited 0).
static OUTPUT_FAILED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// One line on stdout; a reader that went away ends the output quietly, any other failure is
/// kept for [`output_failed`].
fn write_stdout(text: &str) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if READER_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "{}", redact::redact(text)).and_then(|_| out.flush());
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => READER_GONE.store(true, Ordering::Relaxed),
        Err(e) => {
            let mut failed = OUTPUT_FAILED.lock().unwrap_or_else(|p| p.into_inner());
            failed.get_or_insert_with(|| e.to_string());
        }
        Ok(()) => {}
    }
}

/// Why stdout could not be written, if it could not (a full disk; not a reader gone away).
pub fn output_failed() -> Option<String> {
    OUTPUT_FAILED.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// One line on stderr that never panics: a run whose terminal went away (SIGHUP, a closed
/// pipe) must still restore what it changed, so a failed write is dropped, not fatal.
pub fn err_line(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{}", redact::redact(text));
}

/// One line on stdout for a run in progress (JSON events): like [`err_line`], a closed reader
/// does not stop the run half-way.
pub fn out_line(text: &str) {
    write_stdout(text);
}

/// `error: ...` on stderr; `help:` lines of the message are set apart.
pub fn error(message: &str) {
    let on = colour_stderr();
    let mut lines = message.lines();
    if let Some(first) = lines.next() {
        err_line(&format!("{} {first}", red(on, "error:")));
    }
    for l in lines {
        match l.strip_prefix("help: ") {
            Some(h) => err_line(&format!("{} {h}", paint(on, "36;1", "help:"))),
            None => err_line(l),
        }
    }
}

/// `warning: ...` on stderr.
pub fn warn(message: &str) {
    err_line(&format!("{} {message}", yellow(colour_stderr(), "warning:")));
}
pub mod draw;
pub mod progress;
pub mod redact;

/// Asks on stderr (`prompt`, where not empty) and returns the line typed, read off the async
/// runtime so that Ctrl-C (or SIGTERM) at the prompt ends the run at once instead of waiting for
/// Enter.
pub async fn ask(prompt: &str) -> String {
    use std::io::{BufRead, Write};
    if !prompt.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{prompt}");
        let _ = err.flush();
    }
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        line
    })
    .await
    .unwrap_or_default()
}

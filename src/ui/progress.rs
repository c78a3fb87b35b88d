//! What a deploy shows while it runs: steps, one live line per stack (state and newest event) on
//! a terminal, plain lines otherwise, or JSON lines with `--json`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Live lines with colour.
    Terminal,
    /// One plain line per change.
    Plain,
    /// One JSON object per line.
    Json,
}

impl Mode {
    pub fn detect(json: bool) -> Self {
        if json {
            Self::Json
        } else if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            Self::Terminal
        } else {
            Self::Plain
        }
    }
}

pub struct Progress {
    mode: Mode,
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    last: Mutex<HashMap<String, String>>,
}

impl Progress {
    pub fn new(mode: Mode) -> Self {
        let multi = MultiProgress::with_draw_target(if mode == Mode::Terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Self { mode, multi, bars: Mutex::new(HashMap::new()), last: Mutex::new(HashMap::new()) }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn plain(&self, text: &str) {
        match self.mode {
            Mode::Terminal => {
                let _ = self.multi.println(super::redact::redact(text));
            }
            Mode::Plain => super::err_line(text),
            Mode::Json => {}
        }
    }

    fn json(&self, value: serde_json::Value) {
        if self.mode == Mode::Json {
            super::out_line(&value.to_string());
        }
    }

    /// A step begins: `preflight`, `lock`, `backup` ...
    pub fn step(&self, name: &str, detail: &str) {
        let on = self.mode == Mode::Terminal;
        self.plain(&format!("{} {}", super::bold(on, &format!("==> {name}")), detail));
        self.json(json!({"event": "step", "step": name, "detail": detail}));
    }

    /// A line of information under the current step.
    pub fn info(&self, text: &str) {
        self.plain(&format!("    {text}"));
        self.json(json!({"event": "info", "text": text}));
    }

    pub fn warn(&self, text: &str) {
        let on = self.mode == Mode::Terminal;
        self.plain(&format!("    {} {text}", super::yellow(on, "warning:")));
        self.json(json!({"event": "warning", "text": text}));
    }

    /// A stack's state changed (`CREATE_IN_PROGRESS`, `unchanged` ...) with its newest event.
    pub fn stack(&self, stack: &str, state: &str, event: &str) {
        let line = if event.is_empty() { state.to_string() } else { format!("{state}  {event}") };
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.get(stack) == Some(&line) {
                return;
            }
            last.insert(stack.to_string(), line.clone());
        }
        match self.mode {
            Mode::Terminal => {
                let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
                let bar = bars.entry(stack.to_string()).or_insert_with(|| {
                    let b = self.multi.add(ProgressBar::new_spinner());
                    b.set_style(
                        ProgressStyle::with_template("    {spinner} {prefix:<10} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    b.set_prefix(stack.to_string());
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                bar.set_message(super::redact::redact(&line));
            }
            Mode::Plain => super::err_line(&format!("    {stack:<10} {line}")),
            Mode::Json => super::out_line(
                &json!({"event": "stack", "stack": stack, "state": state, "newest_event": event}).to_string(),
            ),
        }
    }

    /// A stack reached its final state.
    pub fn stack_done(&self, stack: &str, state: &str) {
        self.stack(stack, state, "");
        if let Some(bar) = self.bars.lock().unwrap_or_else(|p| p.into_inner()).get(stack) {
            bar.finish();
        }
    }
}

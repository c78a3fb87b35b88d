//! The `castform` binary: the seed apps, registered with castform's command line.

use castform::apps::{Lunora, Podcast, StreamCanvas};

fn main() -> std::process::ExitCode {
    castform::run(&[&Lunora, &StreamCanvas, &Podcast])
}

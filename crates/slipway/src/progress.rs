//! Progress on long work: a live bar on a terminal, plain lines elsewhere
//! (CI logs), nothing with `--quiet` or `--format json`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::context::Context;

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    silent: bool,
}

impl Progress {
    pub fn new(ctx: &Context) -> Progress {
        let silent = ctx.quiet || ctx.json();
        let terminal = std::io::stderr().is_terminal();
        let bar = (!silent && terminal).then(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} {pos}/{len}")
                    .expect("static template"),
            );
            b.enable_steady_tick(Duration::from_millis(100));
            b
        });
        Progress {
            bar,
            plain: !silent && !terminal,
            silent,
        }
    }

    /// Announces a new stage of work, with its size when known.
    pub fn stage(&self, message: &str, total: Option<u64>) {
        if let Some(b) = &self.bar {
            b.set_position(0);
            let template = match total {
                Some(t) => {
                    b.set_length(t);
                    "{spinner} {msg} {pos}/{len}"
                }
                None => {
                    b.unset_length();
                    "{spinner} {msg}"
                }
            };
            b.set_style(ProgressStyle::with_template(template).expect("static template"));
            b.set_message(message.to_string());
        } else if self.plain {
            match total {
                Some(t) => eprintln!("slipway: {message} ({t})"),
                None => eprintln!("slipway: {message}"),
            }
        }
    }

    pub fn advance(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// A warning for people; in JSON mode warnings travel in the result instead.
    pub fn warn(&self, message: &str) {
        match &self.bar {
            Some(b) => b.println(format!("warning: {message}")),
            None if !self.silent => eprintln!("warning: {message}"),
            None => {}
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

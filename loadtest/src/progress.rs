//! The progress bar on the terminal (hidden when stderr is not a terminal or with `--quiet`).

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::control::Progress;

pub struct ProgressView {
    bar: ProgressBar,
    last: Option<(Instant, Progress)>,
}

impl ProgressView {
    pub fn new(visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar, last: None }
    }

    /// Starts a phase counted in `unit`s up to `len`.
    pub fn phase(&mut self, name: &str, len: u64) {
        self.bar.set_prefix(name.to_owned());
        self.bar.set_length(len);
        self.bar.set_position(0);
        self.bar.set_message(String::new());
    }

    pub fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
    }

    /// Shows the totals of all workers, with rates since the previous update.
    pub fn update(&mut self, total: Progress) {
        let now = Instant::now();
        let rates = self.last.map(|(then, before)| {
            let secs = now.duration_since(then).as_secs_f64().max(1e-3);
            (
                total.deliveries.saturating_sub(before.deliveries) as f64 / secs,
                total.confirmed.saturating_sub(before.confirmed) as f64 / secs,
            )
        });
        self.last = Some((now, total));
        let (deliveries, confirmed) = rates.unwrap_or_default();
        self.bar.set_message(format!(
            "open {} (failed {}), published {}, deliveries {} ({:.0}/s, {:.0} msg/s), errors {}",
            total.connected,
            total.connect_failed,
            total.published,
            total.deliveries,
            deliveries,
            confirmed,
            total.errors
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

//! The restart budget a supervisor applies to each child.
//!
//! A child that fails is restarted, because most failures are one bad message and the rebuilt
//! actor works fine. A child that keeps failing is broken (bad data, a bug on its hot path), and
//! restarting it forever would only burn CPU and fill the log, so a supervisor allows at most
//! `max_restarts` restarts within `window` and gives up on the child after that.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// At most `max_restarts` restarts within any `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartBudget {
    pub max_restarts: u32,
    pub window: Duration,
}

impl Default for RestartBudget {
    fn default() -> Self {
        Self {
            max_restarts: 5,
            window: Duration::from_secs(60),
        }
    }
}

/// The restart history of one child, checked against a [`RestartBudget`].
#[derive(Debug, Default)]
pub struct RestartHistory {
    recent: VecDeque<Instant>,
}

impl RestartHistory {
    /// Records a failure at `now`; returns whether a restart is still within budget.
    pub fn allow(&mut self, budget: RestartBudget, now: Instant) -> bool {
        while let Some(&oldest) = self.recent.front() {
            if now.duration_since(oldest) >= budget.window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() >= budget.max_restarts as usize {
            return false;
        }
        self.recent.push_back(now);
        true
    }

    /// Restarts counted in the current window.
    pub fn recent(&self) -> usize {
        self.recent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_per_window() {
        let budget = RestartBudget {
            max_restarts: 2,
            window: Duration::from_secs(10),
        };
        let t0 = Instant::now();
        let mut history = RestartHistory::default();
        assert!(history.allow(budget, t0));
        assert!(history.allow(budget, t0 + Duration::from_secs(1)));
        assert!(!history.allow(budget, t0 + Duration::from_secs(2)));
        // The first restart leaves the window: one more is allowed.
        assert!(history.allow(budget, t0 + Duration::from_secs(10)));
        assert!(!history.allow(budget, t0 + Duration::from_secs(10)));
    }

    #[test]
    fn zero_budget_never_restarts() {
        let budget = RestartBudget {
            max_restarts: 0,
            window: Duration::from_secs(1),
        };
        assert!(!RestartHistory::default().allow(budget, Instant::now()));
    }
}

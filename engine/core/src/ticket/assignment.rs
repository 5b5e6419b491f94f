//! Choosing the agent a new support or bug ticket goes to.
//!
//! The least-loaded agent wins; among equally loaded agents the choice rotates: it goes to the
//! first one *after* the agent who got the previous ticket, in a stable order (by user id), and
//! wraps around. Without the rotation the same agent would win every tie and take every ticket
//! of a quiet morning. Who counts as a candidate (active, with the `tickets.agent` permission,
//! same organization) is decided by the caller.

use crate::ids::UserId;

/// One candidate and how many unfinished (not resolved or closed) tickets they hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentLoad {
    pub agent: UserId,
    pub open_tickets: u32,
}

/// The agent to assign, or `None` when there are no candidates. `last_assigned` is the agent
/// who got the organization's previous auto-assigned ticket (it need not be a candidate now).
pub fn pick_assignee(candidates: &[AgentLoad], last_assigned: Option<UserId>) -> Option<UserId> {
    let least = candidates.iter().map(|c| c.open_tickets).min()?;
    let tied = candidates
        .iter()
        .filter(|c| c.open_tickets == least)
        .map(|c| c.agent);
    let first = tied.clone().min();
    let after_last = last_assigned.and_then(|last| tied.filter(|a| *a > last).min());
    after_last.or(first)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    /// Agents with ids in a known order: agent(1) < agent(2) < …
    fn agent(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    fn load(n: u128, open_tickets: u32) -> AgentLoad {
        AgentLoad {
            agent: agent(n),
            open_tickets,
        }
    }

    #[test]
    fn nobody_to_pick_from() {
        assert_eq!(pick_assignee(&[], None), None);
        assert_eq!(pick_assignee(&[], Some(agent(1))), None);
    }

    #[test]
    fn the_least_loaded_agent_wins_whatever_the_rotation() {
        let candidates = [load(1, 5), load(2, 2), load(3, 7)];
        assert_eq!(pick_assignee(&candidates, None), Some(agent(2)));
        assert_eq!(pick_assignee(&candidates, Some(agent(2))), Some(agent(2)));
        assert_eq!(pick_assignee(&candidates, Some(agent(1))), Some(agent(2)));
    }

    #[test]
    fn ties_go_to_the_next_agent_after_the_last_one_and_wrap() {
        let candidates = [load(3, 1), load(1, 1), load(2, 1), load(4, 9)];
        assert_eq!(pick_assignee(&candidates, None), Some(agent(1)));
        assert_eq!(pick_assignee(&candidates, Some(agent(1))), Some(agent(2)));
        assert_eq!(pick_assignee(&candidates, Some(agent(2))), Some(agent(3)));
        assert_eq!(
            pick_assignee(&candidates, Some(agent(3))),
            Some(agent(1)),
            "wraps past the end (agent 4 is not tied)"
        );
        // The last agent may have left the candidates: the next one after it still gets it.
        let without_2 = [load(1, 0), load(3, 0)];
        assert_eq!(pick_assignee(&without_2, Some(agent(2))), Some(agent(3)));
    }

    #[test]
    fn the_input_order_does_not_matter() {
        let a = [load(1, 0), load(2, 0), load(3, 0)];
        let b = [load(3, 0), load(1, 0), load(2, 0)];
        for last in [None, Some(agent(1)), Some(agent(2)), Some(agent(3))] {
            assert_eq!(pick_assignee(&a, last), pick_assignee(&b, last));
        }
    }

    #[test]
    fn assigning_one_ticket_after_another_spreads_them_evenly() {
        let mut loads = vec![load(1, 0), load(2, 0), load(3, 0)];
        let mut last = None;
        let mut order = Vec::new();
        for _ in 0..9 {
            let picked = pick_assignee(&loads, last).unwrap();
            order.push(picked);
            last = Some(picked);
            if let Some(l) = loads.iter_mut().find(|l| l.agent == picked) {
                l.open_tickets += 1;
            }
        }
        let expected: Vec<UserId> = [1, 2, 3, 1, 2, 3, 1, 2, 3].map(agent).to_vec();
        assert_eq!(order, expected);
        assert!(loads.iter().all(|l| l.open_tickets == 3));
    }

    #[test]
    fn a_newcomer_with_no_tickets_catches_up_first() {
        let loads = [load(1, 4), load(2, 4), load(3, 0)];
        assert_eq!(pick_assignee(&loads, Some(agent(3))), Some(agent(3)));
    }
}

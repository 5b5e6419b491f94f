//! Every edge of the state machine, checked against a table written out by hand here, and the
//! tables in `docs/tickets.md` and in the module documentation checked against the code.

use std::collections::BTreeSet;

use super::*;
use TicketStatus::*;

/// The expected outcome of one cell, written independently of `rule()`.
/// `same` = unchanged, `back` = back to new, `reopen` = reopen first, otherwise
/// "`actors`:`kind`".
#[rustfmt::skip]
const EXPECTED: [[&str; 6]; 6] = [
    // from \ to       new      open                     in_progress    waiting_for_user    resolved         closed
    /* new */         ["same", "agent system:triage",   "agent:start", "agent:await_user", "agent:resolve", "agent reporter:close"],
    /* open */        ["back", "same",                  "agent:start", "agent:await_user", "agent:resolve", "agent reporter:close"],
    /* in_progress */ ["back", "agent:requeue",         "same",        "agent:await_user", "agent:resolve", "agent reporter:close"],
    /* waiting */     ["back", "agent reporter:resume", "agent:start", "same",             "agent:resolve", "agent reporter:close"],
    /* resolved */    ["back", "agent reporter:reopen", "reopen",      "reopen",           "same",          "agent reporter system:close"],
    /* closed */      ["back", "agent:reopen",          "reopen",      "reopen",           "reopen",        "same"],
];

fn actor_named(name: &str) -> ActorKind {
    match name {
        "agent" => ActorKind::Agent,
        "reporter" => ActorKind::Reporter,
        "system" => ActorKind::System,
        other => panic!("unknown actor {other:?} in the expected table"),
    }
}

#[test]
fn every_from_to_actor_combination_matches_the_table() {
    let mut checked = 0;
    for (i, from) in TicketStatus::ALL.into_iter().enumerate() {
        for (j, to) in TicketStatus::ALL.into_iter().enumerate() {
            let cell = EXPECTED[i][j];
            for actor in ActorKind::ALL {
                let got = transition(from, to, actor);
                checked += 1;
                match cell {
                    "same" => assert_eq!(got, Err(TransitionError::Unchanged { status: from })),
                    "back" => assert_eq!(got, Err(TransitionError::BackToNew { from })),
                    "reopen" => assert_eq!(got, Err(TransitionError::ReopenFirst { from, to })),
                    allowed => {
                        let (names, kind) = allowed.split_once(':').unwrap();
                        let actors: BTreeSet<ActorKind> =
                            names.split(' ').map(actor_named).collect();
                        if actors.contains(&actor) {
                            let t = got.unwrap_or_else(|e| {
                                panic!("{from} -> {to} by {actor} should be allowed: {e}")
                            });
                            assert_eq!((t.from, t.to, t.actor), (from, to, actor));
                            assert_eq!(t.kind.as_str(), kind, "{from} -> {to}");
                        } else {
                            match got {
                                Err(TransitionError::NotAllowed {
                                    from: f,
                                    to: t,
                                    actor: a,
                                    allowed,
                                }) => {
                                    assert_eq!((f, t, a), (from, to, actor));
                                    let allowed: BTreeSet<_> = allowed.iter().copied().collect();
                                    assert_eq!(allowed, actors, "{from} -> {to}");
                                }
                                other => panic!("{from} -> {to} by {actor}: got {other:?}"),
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 6 * 6 * 3);
}

#[test]
fn allowed_actors_agrees_with_transition() {
    for from in TicketStatus::ALL {
        for to in TicketStatus::ALL {
            for actor in ActorKind::ALL {
                assert_eq!(
                    allowed_actors(from, to).contains(&actor),
                    transition(from, to, actor).is_ok(),
                    "{from} -> {to} by {actor}"
                );
            }
        }
    }
}

#[test]
fn an_agent_can_reach_every_status_except_new_from_every_status() {
    // Through at most one reopen: agents are never stuck.
    for from in TicketStatus::ALL {
        for to in TicketStatus::ALL {
            if from == to || to == New {
                continue;
            }
            let direct = transition(from, to, ActorKind::Agent).is_ok();
            let via_reopen = transition(from, Open, ActorKind::Agent).is_ok()
                && (to == Open || transition(Open, to, ActorKind::Agent).is_ok());
            assert!(direct || via_reopen, "{from} -> {to}");
        }
    }
}

#[test]
fn error_messages_say_what_to_do() {
    let e = transition(Closed, InProgress, ActorKind::Agent).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a closed ticket must be reopened (moved to open) before it can become in_progress"
    );
    let e = transition(Closed, Open, ActorKind::Reporter).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the reporter may not move a ticket from closed to open; only an agent may"
    );
    let e = transition(New, Open, ActorKind::Reporter).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the reporter may not move a ticket from new to open; only an agent or the system may"
    );
    let e = transition(Open, InProgress, ActorKind::System).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the system may not move a ticket from open to in_progress; only an agent may"
    );
    let e = transition(Resolved, New, ActorKind::Agent).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a ticket never goes back to new (this one is resolved)"
    );
    let e = transition(Open, Open, ActorKind::Agent).unwrap_err();
    assert_eq!(e.to_string(), "the ticket is already open");
}

#[test]
fn refusals_map_to_forbidden_or_conflict() {
    let forbidden = transition(New, InProgress, ActorKind::Reporter).unwrap_err();
    assert_eq!(forbidden.error_code(), ErrorCode::Forbidden);
    for e in [
        transition(Closed, Resolved, ActorKind::Agent).unwrap_err(),
        transition(Open, New, ActorKind::Agent).unwrap_err(),
        transition(Open, Open, ActorKind::Agent).unwrap_err(),
    ] {
        assert_eq!(e.error_code(), ErrorCode::Conflict, "{e}");
    }
}

/// Parses a Markdown state table ("| from \ to | open | … |" followed by a separator and one
/// row per from-status) into the set of (from, to, actor) moves it allows.
fn parse_table(lines: &[&str]) -> BTreeSet<(TicketStatus, TicketStatus, ActorKind)> {
    fn cells(line: &str) -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .collect()
    }
    let header_at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("| from \\ to"))
        .expect("a table whose header starts with `| from \\ to`");
    let header = cells(lines[header_at]);
    let columns: Vec<TicketStatus> = header[1..]
        .iter()
        .map(|c| TicketStatus::parse(c).unwrap_or_else(|| panic!("column {c:?}")))
        .collect();
    let mut allowed = BTreeSet::new();
    let mut rows = 0;
    for line in &lines[header_at + 2..] {
        if !line.trim_start().starts_with('|') {
            break;
        }
        let row = cells(line);
        let from = TicketStatus::parse(&row[0]).unwrap_or_else(|| panic!("row {:?}", row[0]));
        rows += 1;
        assert_eq!(row.len(), columns.len() + 1, "row {from}");
        for (to, cell) in columns.iter().zip(&row[1..]) {
            if cell == "—" || cell == "reopen first" {
                continue;
            }
            for name in cell.split(',') {
                allowed.insert((from, *to, actor_named(name.trim())));
            }
        }
    }
    assert_eq!(rows, TicketStatus::ALL.len(), "one row per status");
    allowed
}

fn allowed_by_code() -> BTreeSet<(TicketStatus, TicketStatus, ActorKind)> {
    let mut allowed = BTreeSet::new();
    for from in TicketStatus::ALL {
        for to in TicketStatus::ALL {
            for actor in allowed_actors(from, to) {
                allowed.insert((from, to, *actor));
            }
        }
    }
    allowed
}

#[test]
fn docs_tickets_md_shows_the_same_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/tickets.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(parse_table(&lines), allowed_by_code());
}

#[test]
fn the_module_documentation_shows_the_same_table() {
    let lines: Vec<&str> = include_str!("transition.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .collect();
    assert_eq!(parse_table(&lines), allowed_by_code());
}

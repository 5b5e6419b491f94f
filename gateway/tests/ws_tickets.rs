//! Support tickets over a real node: HTTP for the control plane, `atrium-client` over WebSocket
//! for the pushes, a hand-moved clock for SLA time, and a node restart on the same database.

mod ws_support;

use std::sync::Arc;

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use atrium_actors::RealtimeConfig;
use atrium_actors::ticket::TicketConfig;
use atrium_actors::ticket::clock::{ManualClock, SharedClock};
use atrium_client::{Client, ClientError, Event};
use atrium_core::ids::TicketId;
use atrium_core::protocol::{ErrorCode, ServerFrame};
use atrium_core::ticket::records::SlaTarget;
use atrium_gateway::ws::WsConfig;
use atrium_persistence::store::Page;
use ws_support::{Account, Node, WAIT};

fn start_instant() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_millisecond(0).unwrap()
}

fn config(clock: &Arc<ManualClock>) -> RealtimeConfig {
    RealtimeConfig {
        tickets: TicketConfig {
            clock: SharedClock(clock.clone()),
            ..TicketConfig::default()
        },
        ..RealtimeConfig::default()
    }
}

async fn patch(node: &Node, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .patch(format!("{}{path}", node.base))
        .bearer_auth(token)
        .json(&body)
        .timeout(WAIT)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every push a client received, so a test can check what it never saw.
#[derive(Default)]
struct Seen(Vec<ServerFrame>);

impl Seen {
    /// Waits for the first push `want` accepts, keeping every push seen on the way.
    async fn expect<T>(
        &mut self,
        client: &Client,
        mut want: impl FnMut(&ServerFrame) -> Option<T>,
    ) -> T {
        tokio::time::timeout(WAIT, async {
            loop {
                match client.next_event().await {
                    Some(Event::Push(frame)) => {
                        let found = want(&frame);
                        self.0.push(frame);
                        if let Some(found) = found {
                            return found;
                        }
                    }
                    Some(_) => {}
                    None => panic!("client closed while waiting"),
                }
            }
        })
        .await
        .expect("timed out waiting for a push")
    }

    fn internal_notes(&self) -> usize {
        self.0
            .iter()
            .filter(|f| matches!(f, ServerFrame::TicketComment { comment, .. } if comment.internal))
            .count()
    }
}

fn ticket_id(body: &Value) -> TicketId {
    body["id"].as_str().expect("id").parse().expect("uuid")
}

async fn accounts(node: &Node) -> (Account, Account, Account) {
    // The first account of an empty install is the administrator: our agent.
    let agent = node.register("agent").await;
    let rita = node.register("rita").await;
    let otto = node.register("otto").await;
    (agent, rita, otto)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urgent_ticket_lives_pauses_and_breaches_on_time_after_a_restart() {
    let clock = Arc::new(ManualClock::new(start_instant()));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("atrium.db").display());
    let node = Node::start_at(&url, config(&clock), WsConfig::default(), None).await;
    let (agent, rita, _otto) = accounts(&node).await;

    let agent_live = node.client(&agent).await;
    agent_live
        .ticket_sub(None)
        .await
        .expect("agent watches the queue");
    let mut agent_seen = Seen::default();

    // The reporter opens an urgent ticket; it is auto-tagged (DE and EN keywords) and goes to
    // the only agent, which triages it to open.
    let (status, created) = node
        .post(
            "/api/v1/tickets",
            Some(&rita.token),
            json!({
                "type": "support",
                "priority": "urgent",
                "subject": "Login funktioniert nicht",
                "description": "Error beim Anmelden, das Passwort wird abgelehnt.",
                "metadata": {"app": "web/1.2"},
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = ticket_id(&created);
    assert_eq!(created["number"], "T-000001");
    assert_eq!(created["status"], "open");
    assert_eq!(created["assignee_id"], json!(agent.id));
    let tags: Vec<&str> = created["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"bug"), "{tags:?}");
    assert!(tags.contains(&"account"), "{tags:?}");

    // The agent sees it live.
    let pushed = agent_seen
        .expect(&agent_live, |f| match f {
            ServerFrame::TicketCreated { ticket, .. } => Some(ticket.clone()),
            _ => None,
        })
        .await;
    assert_eq!(pushed.id, id);
    assert_eq!(pushed.assignee_id, Some(agent.id));

    let rita_live = node.client(&rita).await;
    rita_live
        .ticket_sub(Some(id))
        .await
        .expect("reporter watches");
    let mut rita_seen = Seen::default();

    // An internal note reaches the agent, never the reporter (push or HTTP).
    let (status, body) = node
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            Some(&agent.token),
            json!({"body": "intern: Konto prüfen", "internal": true}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    agent_seen
        .expect(&agent_live, |f| match f {
            ServerFrame::TicketComment { comment, .. } if comment.internal => Some(()),
            _ => None,
        })
        .await;
    let (_, view) = node
        .get(&format!("/api/v1/tickets/{id}"), &rita.token)
        .await;
    assert_eq!(
        view["comments"],
        json!([]),
        "the reporter reads no internal note"
    );
    let (_, view) = node
        .get(&format!("/api/v1/tickets/{id}"), &agent.token)
        .await;
    assert_eq!(view["comments"].as_array().unwrap().len(), 1);

    // A public answer is the first response; the agent then waits for the user.
    clock.advance(Duration::minutes(10));
    let (status, _) = node
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            Some(&agent.token),
            json!({"body": "Welchen Browser nutzen Sie?"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = patch(
        &node,
        &format!("/api/v1/tickets/{id}"),
        &agent.token,
        json!({"status": "waiting_for_user"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let public = rita_seen
        .expect(&rita_live, |f| match f {
            ServerFrame::TicketComment { comment, .. } => Some(comment.clone()),
            _ => None,
        })
        .await;
    assert!(!public.internal);
    assert_eq!(public.body, "Welchen Browser nutzen Sie?");
    rita_seen
        .expect(&rita_live, |f| match f {
            ServerFrame::TicketUpdated { ticket, .. }
                if ticket.status == atrium_core::ticket::TicketStatus::WaitingForUser =>
            {
                Some(())
            }
            _ => None,
        })
        .await;

    // Paused: 30 minutes pass without counting, and nothing is armed.
    clock.advance(Duration::minutes(30));
    let (_, sla) = node
        .get(&format!("/api/v1/tickets/{id}/sla"), &rita.token)
        .await;
    assert_eq!(sla["state"], "paused", "{sla}");
    assert_eq!(sla["paused_secs"], 30 * 60);
    assert_eq!(sla["response"]["outcome"], "met");
    assert_eq!(sla["resolution"]["elapsed_secs"], 10 * 60);
    assert_eq!(sla["next_deadline"], Value::Null);

    // The reporter answers: the ticket is open again and the clock resumes.
    let (status, body) = node
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            Some(&rita.token),
            json!({"body": "Firefox 140"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["ticket"]["status"], "open");
    let (_, sla) = node
        .get(&format!("/api/v1/tickets/{id}/sla"), &agent.token)
        .await;
    assert_eq!(sla["state"], "running");
    // 4 h resolution target, 10 min counted before the wait: due 3 h 50 min after resuming.
    let resumed = start_instant_of(&sla["at"]);
    let due = resumed + Duration::minutes(230);
    assert_eq!(sla["resolution"]["deadline"], json!(rfc3339(due)), "{sla}");

    // The node restarts; the new node re-arms the timer from the store.
    agent_live.close();
    rita_live.close();
    node.stop();
    node.realtime.shutdown().await;
    let node = Node::start_at(&url, config(&clock), WsConfig::default(), None).await;
    let agent_live = node.client(&agent).await;
    agent_live.ticket_sub(None).await.unwrap();
    let rita_live = node.client(&rita).await;
    rita_live.ticket_sub(Some(id)).await.unwrap();
    assert_eq!(
        node.realtime.tickets().armed_deadline(agent.org, id),
        Some(due),
        "re-armed from the store"
    );

    clock.advance(Duration::minutes(229));
    let (_, sla) = node
        .get(&format!("/api/v1/tickets/{id}/sla"), &agent.token)
        .await;
    assert_eq!(sla["resolution"]["outcome"], "pending");
    clock.advance(Duration::minutes(1));
    let mut agent_seen2 = Seen::default();
    let mut rita_seen2 = Seen::default();
    for (client, seen) in [
        (&agent_live, &mut agent_seen2),
        (&rita_live, &mut rita_seen2),
    ] {
        let (target, deadline) = seen
            .expect(client, |f| match f {
                ServerFrame::TicketSlaBreach {
                    ticket,
                    target,
                    deadline,
                    ..
                } if *ticket == id => Some((*target, *deadline)),
                _ => None,
            })
            .await;
        assert_eq!(target, SlaTarget::Resolution);
        assert_eq!(deadline, (due.unix_timestamp_nanos() / 1_000_000) as i64);
    }

    // Recorded: the SLA report, the breached filter, a notification for the assignee.
    let (_, sla) = node
        .get(&format!("/api/v1/tickets/{id}/sla"), &agent.token)
        .await;
    assert_eq!(sla["resolution"]["outcome"], "breached");
    assert_eq!(sla["breaches"].as_array().unwrap().len(), 1);
    let (_, list) = node
        .get("/api/v1/tickets?breached=true", &agent.token)
        .await;
    assert_eq!(list["total"], 1, "{list}");
    let notes = node
        .state
        .store
        .list_notifications(agent.id, Page::default())
        .await
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].kind, "ticket.sla_breach");
    assert_eq!(notes[0].payload["target"], "resolution");

    // The activity log tells the whole story (agents only).
    let (status, log) = node
        .get(&format!("/api/v1/tickets/{id}/activity"), &agent.token)
        .await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "assignee",
            "status",
            "comment",
            "comment",
            "status",
            "comment",
            "status",
            "sla_breach"
        ]
    );
    let (status, _) = node
        .get(&format!("/api/v1/tickets/{id}/activity"), &rita.token)
        .await;
    assert_eq!(status, 403);

    // The reporter never saw an internal note, before or after the restart.
    assert_eq!(rita_seen.internal_notes(), 0);
    assert_eq!(rita_seen2.internal_notes(), 0);
    assert_eq!(agent_seen.internal_notes(), 1);
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn start_instant_of(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        v.as_str().expect("instant"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("rfc3339")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn illegal_moves_bad_input_and_other_tenants_are_refused() {
    let clock = Arc::new(ManualClock::new(start_instant()));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("atrium.db").display());
    let node = Node::start_at(&url, config(&clock), WsConfig::default(), None).await;
    let (agent, rita, otto) = accounts(&node).await;
    let stranger = node.foreign_account("stranger").await;

    let (status, created) = node
        .post(
            "/api/v1/tickets",
            Some(&rita.token),
            json!({"type": "question", "priority": "low", "subject": "Wie exportiere ich?"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = ticket_id(&created);
    assert_eq!(created["status"], "new", "questions are not auto-assigned");
    assert_eq!(created["assignee_id"], Value::Null);
    let path = format!("/api/v1/tickets/{id}");

    // Bad input.
    for (body, code) in [
        (
            json!({"type": "support", "priority": "low", "subject": "  "}),
            400,
        ),
        (
            json!({"type": "support", "priority": "low", "subject": "x".repeat(201)}),
            400,
        ),
        (
            json!({"type": "incident", "priority": "low", "subject": "x"}),
            422,
        ),
        (
            json!({"type": "support", "priority": "low", "subject": "x", "x": 1}),
            422,
        ),
    ] {
        let (status, body) = node.post("/api/v1/tickets", Some(&rita.token), body).await;
        assert_eq!(status, code, "{body}");
    }
    let (status, _) = node.get("/api/v1/tickets/not-a-ticket", &agent.token).await;
    assert_eq!(status, 400);
    let (status, _) = node.get("/api/v1/tickets?status=done", &agent.token).await;
    assert_eq!(status, 400);

    // Who sees what: the reporter and agents; not another user, not another organization.
    for who in [&otto, &stranger] {
        let (status, body) = node.get(&path, &who.token).await;
        assert_eq!(status, 404, "{body}");
        let (status, _) = patch(&node, &path, &who.token, json!({"status": "closed"})).await;
        assert_eq!(status, 404);
    }
    let (_, mine) = node.get("/api/v1/tickets", &otto.token).await;
    assert_eq!(mine["total"], 0);
    let (_, all) = node.get("/api/v1/tickets", &agent.token).await;
    assert_eq!(all["total"], 1);
    let (status, _) = node.get("/api/v1/tickets/T-000001", &rita.token).await;
    assert_eq!(status, 200, "by number");

    // Illegal transitions get a clear error.
    let (status, body) = patch(&node, &path, &rita.token, json!({"status": "in_progress"})).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only an agent may"),
        "{body}"
    );
    let (status, body) = patch(&node, &path, &agent.token, json!({"status": "new"})).await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = patch(&node, &path, &rita.token, json!({"priority": "urgent"})).await;
    assert_eq!(status, 403, "reporters change only the status");
    let (status, body) = node
        .post(
            &format!("{path}/comments"),
            Some(&rita.token),
            json!({"body": "psst", "internal": true}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = node
        .post(
            &format!("{path}/comments"),
            Some(&rita.token),
            json!({"body": "   "}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = node
        .post(
            &format!("{path}/assign"),
            Some(&agent.token),
            json!({"assignee_id": otto.id}),
        )
        .await;
    assert_eq!(status, 400, "otto is no agent: {body}");
    let (status, body) = node
        .post(
            &format!("{path}/assign"),
            Some(&agent.token),
            json!({"assignee_id": agent.id}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignee_id"], json!(agent.id));
    let (status, body) = node
        .post(&format!("{path}/reopen"), Some(&agent.token), json!({}))
        .await;
    assert_eq!(status, 409, "not done yet: {body}");

    // Survey: only after close, only the reporter, once, 1–5.
    let survey = format!("{path}/survey");
    let (status, _) = node
        .post(&survey, Some(&rita.token), json!({"rating": 5}))
        .await;
    assert_eq!(status, 409, "not closed yet");
    let (status, body) = node
        .post(&format!("{path}/close"), Some(&rita.token), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "closed");
    let (status, _) = node
        .post(&format!("{path}/close"), Some(&rita.token), json!({}))
        .await;
    assert_eq!(status, 409, "already closed");
    for bad in [
        json!({"rating": 6}),
        json!({"rating": 4.5}),
        json!({}),
        json!({"rating": 3, "x": 1}),
    ] {
        let (status, body) = node.post(&survey, Some(&rita.token), bad).await;
        assert_eq!(status, 422, "{body}");
    }
    let (status, _) = node
        .post(&survey, Some(&agent.token), json!({"rating": 5}))
        .await;
    assert_eq!(status, 403);
    let (status, body) = node
        .post(
            &survey,
            Some(&rita.token),
            json!({"rating": 4, "comment": "schnell"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = node
        .post(&survey, Some(&rita.token), json!({"rating": 1}))
        .await;
    assert_eq!(status, 409, "once");
    let (status, body) = node
        .post(&format!("{path}/reopen"), Some(&rita.token), json!({}))
        .await;
    assert_eq!(
        status, 403,
        "a closed ticket is final for the reporter: {body}"
    );
    let (status, body) = node
        .post(&format!("{path}/reopen"), Some(&agent.token), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "open");

    // Live: watching needs visibility; the queue needs an agent.
    let otto_live = node.client(&otto).await;
    let err = otto_live.ticket_sub(Some(id)).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Server {
                code: ErrorCode::NotFound,
                ..
            }
        ),
        "{err:?}"
    );
    let err = otto_live.ticket_sub(None).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Server {
                code: ErrorCode::Forbidden,
                ..
            }
        ),
        "{err:?}"
    );
    let stranger_live = node.client(&stranger).await;
    let err = stranger_live.ticket_sub(Some(id)).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Server {
                code: ErrorCode::NotFound,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_drive_tagging_and_sla_and_ties_rotate_between_agents() {
    let clock = Arc::new(ManualClock::new(start_instant()));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("atrium.db").display());
    let node = Node::start_at(&url, config(&clock), WsConfig::default(), None).await;
    let (admin, rita, otto) = accounts(&node).await;
    let mia = node.register("mia").await;
    // Two more agents: 3 agents with no tickets, so the first three bugs go to each once.
    for who in [&otto, &mia] {
        let (status, body) = patch(
            &node,
            &format!("/api/v1/users/{}/role", who.id),
            &admin.token,
            json!({"role": "moderator"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    // Only holders of tickets.settings replace the settings; bad rules are refused.
    let settings = json!({
        "sla": {"urgent": {"response_minutes": 15, "resolution_minutes": 60}},
        "tag_rules": [{"tag": "shipping", "de": ["lieferung*", "paket"], "en": ["delivery", "parcel"]}],
    });
    let response = reqwest::Client::new()
        .put(format!("{}/api/v1/tickets/settings", node.base))
        .bearer_auth(&rita.token)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let bad = json!({"tag_rules": [{"tag": "Bad Tag", "en": ["x"]}]});
    let response = reqwest::Client::new()
        .put(format!("{}/api/v1/tickets/settings", node.base))
        .bearer_auth(&admin.token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let response = reqwest::Client::new()
        .put(format!("{}/api/v1/tickets/settings", node.base))
        .bearer_auth(&admin.token)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (_, stored) = node.get("/api/v1/tickets/settings", &admin.token).await;
    assert_eq!(stored["sla"]["urgent"]["response_minutes"], 15);

    let mut assignees = Vec::new();
    for i in 0..3 {
        let (status, body) = node
            .post(
                "/api/v1/tickets",
                Some(&rita.token),
                json!({"type": "bug", "priority": "urgent", "subject": format!("Paket {i} fehlt")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(
            body["tags"],
            json!(["shipping"]),
            "the organization's rules apply"
        );
        assignees.push(body["assignee_id"].as_str().unwrap().to_owned());
        if i == 0 {
            let id = ticket_id(&body);
            let (_, sla) = node
                .get(&format!("/api/v1/tickets/{id}/sla"), &rita.token)
                .await;
            assert_eq!(sla["response"]["target_secs"], 15 * 60, "{sla}");
        }
    }
    let distinct: std::collections::BTreeSet<&String> = assignees.iter().collect();
    assert_eq!(distinct.len(), 3, "ties rotate: {assignees:?}");

    // The organization's 15-minute response target is what the timers are armed for.
    let (_, list) = node
        .get("/api/v1/tickets?priority=urgent&limit=1", &admin.token)
        .await;
    assert_eq!(list["total"], 3);
    let watcher = node.client(&admin).await;
    watcher.ticket_sub(None).await.unwrap();
    clock.advance(Duration::minutes(15));
    let mut seen = Seen::default();
    let breached = seen
        .expect(&watcher, |f| match f {
            ServerFrame::TicketSlaBreach { target, .. } => Some(*target),
            _ => None,
        })
        .await;
    assert_eq!(breached, SlaTarget::Response);
}

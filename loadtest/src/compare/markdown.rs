//! The Markdown of the comparison: one table per case with a ratio column per peer, the
//! issue's goals judged against the figures, and the cases in reading order.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::Report;

use super::{Cases, TARGETS};

/// Whether a bigger figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
    Neither,
}

struct Row {
    metric: &'static str,
    better: Better,
    value: fn(&Report) -> Option<f64>,
    format: fn(f64) -> String,
}

fn fanout_rows() -> Vec<Row> {
    vec![
        Row {
            metric: "deliveries/s",
            better: Better::Higher,
            value: |r| r.fanout.as_ref().map(|f| f.deliveries_per_sec),
            format: thousands,
        },
        Row {
            metric: "messages confirmed/s",
            better: Better::Higher,
            value: |r| r.fanout.as_ref().map(|f| f.publish_rate_per_sec),
            format: thousands,
        },
        Row {
            metric: "latency p50 (ms)",
            better: Better::Lower,
            value: |r| Some(r.latency.p50_ms),
            format: millis,
        },
        Row {
            metric: "latency p99 (ms)",
            better: Better::Lower,
            value: |r| Some(r.latency.p99_ms),
            format: millis,
        },
        Row {
            metric: "latency p99.9 (ms)",
            better: Better::Lower,
            value: |r| Some(r.latency.p999_ms),
            format: millis,
        },
        Row {
            metric: "latency max (ms)",
            better: Better::Lower,
            value: |r| Some(r.latency.max_ms),
            format: millis,
        },
        Row {
            metric: "gaps + duplicates",
            better: Better::Neither,
            value: |r| Some((r.integrity.totals.gaps + r.integrity.totals.duplicates) as f64),
            format: thousands,
        },
        Row {
            metric: "delivered / due",
            better: Better::Neither,
            value: |r| {
                r.fanout.as_ref().map(|f| {
                    if f.expected_deliveries == 0 {
                        0.0
                    } else {
                        f.deliveries as f64 / f.expected_deliveries as f64
                    }
                })
            },
            format: |v| format!("{:.4}", v),
        },
        Row {
            metric: "server CPU (cores)",
            better: Better::Neither,
            value: |r| r.server.as_ref().map(|s| s.cpu_cores),
            format: |v| format!("{v:.2}"),
        },
        Row {
            // What a delivery costs the server, whatever else the shared machine was doing.
            metric: "server CPU per delivery (µs)",
            better: Better::Lower,
            value: |r| {
                let deliveries = r.fanout.as_ref()?.deliveries;
                let cpu = r.server.as_ref()?.cpu_seconds;
                (deliveries > 0).then(|| cpu * 1e6 / deliveries as f64)
            },
            format: |v| format!("{v:.3}"),
        },
        Row {
            metric: "load generator CPU (cores)",
            better: Better::Neither,
            value: |r| Some(r.generator.cpu_cores),
            format: |v| format!("{v:.2}"),
        },
    ]
}

fn connect_rows() -> Vec<Row> {
    vec![
        Row {
            metric: "sessions open",
            better: Better::Neither,
            value: |r| Some(r.sessions.connected as f64),
            format: thousands,
        },
        Row {
            metric: "server RSS per session (KiB)",
            better: Better::Lower,
            value: |r| r.server.as_ref().map(|s| s.rss_per_session_bytes / 1024.0),
            format: |v| format!("{v:.1}"),
        },
        Row {
            metric: "connect p50 (ms)",
            better: Better::Lower,
            value: |r| Some(r.sessions.connect_latency.p50_ms),
            format: millis,
        },
        Row {
            metric: "connect p99 (ms)",
            better: Better::Lower,
            value: |r| Some(r.sessions.connect_latency.p99_ms),
            format: millis,
        },
        Row {
            metric: "errors",
            better: Better::Neither,
            value: |r| Some(r.errors.values().sum::<u64>() as f64),
            format: thousands,
        },
    ]
}

pub fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub fn millis(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Atrium ÷ peer, or "–" when either is missing or the peer is 0.
pub fn ratio(atrium: Option<f64>, peer: Option<f64>) -> String {
    match (atrium, peer) {
        (Some(a), Some(p)) if p > 0.0 => format!("{:.2}×", a / p),
        _ => "–".to_owned(),
    }
}

fn table(out: &mut String, reports: &BTreeMap<String, Report>, rows: &[Row]) {
    let present: Vec<_> = TARGETS
        .iter()
        .filter(|(t, _)| reports.contains_key(*t))
        .collect();
    let peers: Vec<_> = present.iter().filter(|(t, _)| *t != "atrium").collect();
    let _ = write!(out, "| Metric |");
    for (_, name) in &present {
        let _ = write!(out, " {name} |");
    }
    for (_, name) in &peers {
        let _ = write!(out, " Atrium ÷ {name} |");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|{}", "---|".repeat(1 + present.len() + peers.len()));
    for row in rows {
        let hint = match row.better {
            Better::Higher => " (higher is better)",
            Better::Lower => " (lower is better)",
            Better::Neither => "",
        };
        let _ = write!(out, "| {}{hint} |", row.metric);
        for (t, _) in &present {
            let v = reports.get(*t).and_then(row.value);
            let _ = write!(
                out,
                " {} |",
                v.map(row.format).unwrap_or_else(|| "–".into())
            );
        }
        let atrium = reports.get("atrium").and_then(row.value);
        for (t, _) in &peers {
            let cell = if row.better == Better::Neither {
                "".to_owned()
            } else {
                ratio(atrium, reports.get(*t).and_then(row.value))
            };
            let _ = write!(out, " {cell} |");
        }
        let _ = writeln!(out);
    }
}

/// The goals of the load-test issue, checked against the figures.
fn goals(cases: &Cases) -> Vec<String> {
    let mut lines = Vec::new();
    let value = |case: &str, target: &str, f: fn(&Report) -> Option<f64>| {
        cases.get(case).and_then(|c| c.get(target)).and_then(f)
    };
    let delivered = |r: &Report| r.fanout.as_ref().map(|f| f.deliveries_per_sec);
    for case in cases.keys().filter(|c| c.ends_with("-saturation")) {
        for (peer, name, goal) in [("socketio", "Socket.IO", 3.0), ("nats", "NATS", 1.2)] {
            if let (Some(a), Some(p)) = (
                value(case, "atrium", delivered),
                value(case, peer, delivered),
            ) && p > 0.0
            {
                let r = a / p;
                lines.push(format!(
                    "- `{case}`: Atrium delivers {r:.2}× {name} (goal ≥ {goal}×): **{}**",
                    if r >= goal { "met" } else { "not met" }
                ));
            }
        }
    }
    for case in cases.keys().filter(|c| c.ends_with("-half")) {
        if let Some(p99) = value(case, "atrium", |r| Some(r.latency.p99_ms)) {
            lines.push(format!(
                "- `{case}`: Atrium p99 {} ms at half of its saturation rate (goal ≤ 25 ms): **{}**",
                millis(p99),
                if p99 <= 25.0 { "met" } else { "not met" }
            ));
        }
    }
    for (case, reports) in cases {
        if let Some(kib) = reports
            .get("atrium")
            .filter(|r| r.scenario == "connect")
            .and_then(|r| r.server.as_ref())
            .map(|s| s.rss_per_session_bytes / 1024.0)
        {
            lines.push(format!(
                "- `{case}`: Atrium RSS {kib:.1} KiB per idle session (goal ≤ 8 KiB): **{}**",
                if kib <= 8.0 { "met" } else { "not met" }
            ));
        }
    }
    lines
}

fn describe(r: &Report) -> String {
    let c = &r.config;
    match r.scenario.as_str() {
        "connect" => format!(
            "{} sessions opened at {}/s{}, held {} s",
            thousands(c.connect.sessions as f64),
            c.connect.rate_per_sec,
            if c.connect.subscribe {
                format!(
                    ", each subscribed to one of {} channels",
                    c.connect.channels
                )
            } else {
                String::new()
            },
            c.connect.hold_secs
        ),
        _ => format!(
            "{} channel(s) × {} subscribers, {} publisher(s) per channel, {}, {}-byte payloads, {} s",
            c.fanout.channels,
            c.fanout.members,
            c.fanout.publishers_per_channel,
            if c.fanout.rate_per_sec == 0 {
                format!(
                    "as fast as confirmations allow (≤ {} unconfirmed per publisher)",
                    c.fanout.inflight
                )
            } else {
                format!(
                    "{} messages/s offered",
                    thousands(c.fanout.rate_per_sec as f64)
                )
            },
            c.fanout.payload_bytes,
            c.run.duration_secs
        ),
    }
}

/// A Unix time in milliseconds as `2026-11-26 01:02` (UTC).
fn utc(unix_ms: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix_ms / 1000).unwrap_or(0))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| format!("{unix_ms} ms after the Unix epoch"))
}

/// Cases grouped by shape, saturation first, then half of it, then a fixed shared rate.
fn in_reading_order(cases: &Cases) -> Vec<(&String, &BTreeMap<String, Report>)> {
    let rank = |case: &str| {
        let kind = ["-saturation", "-half", "-same-rate"]
            .iter()
            .position(|suffix| case.ends_with(suffix))
            .unwrap_or(3);
        let shape = case
            .rsplit_once('-')
            .map_or(case, |(shape, _)| shape)
            .to_owned();
        (
            kind == 3,
            if kind == 3 { case.to_owned() } else { shape },
            kind,
        )
    };
    let mut ordered: Vec<_> = cases.iter().collect();
    ordered.sort_by_key(|(case, _)| rank(case));
    ordered
}

/// The generated Markdown block (without the markers).
pub fn markdown(
    cases: &Cases,
    command: &str,
    plot_links: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Reproduce with `{command}`.\n");
    let started = cases
        .values()
        .flat_map(|c| c.values())
        .map(|r| r.started_at_unix_ms);
    if let (Some(first), Some(last)) = (started.clone().min(), started.max()) {
        let _ = writeln!(
            out,
            "Measured {} to {} (UTC); every figure below is from that run.\n",
            utc(first),
            utc(last)
        );
    }
    let goal_lines = goals(cases);
    if !goal_lines.is_empty() {
        let _ = writeln!(out, "Goals:\n");
        for l in goal_lines {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(out);
    }
    for (case, reports) in in_reading_order(cases) {
        let _ = writeln!(out, "### `{case}`\n");
        if let Some(any) = reports.get("atrium").or_else(|| reports.values().next()) {
            let loads: Vec<String> = TARGETS
                .iter()
                .filter_map(|(t, name)| {
                    reports
                        .get(*t)
                        .map(|r| format!("{name} {:.1}", r.load_average))
                })
                .collect();
            let _ = writeln!(
                out,
                "{}. Machine load average at the start of each run: {}.\n",
                describe(any),
                loads.join(", ")
            );
        }
        let is_connect = reports.values().any(|r| r.scenario == "connect");
        let rows = if is_connect {
            connect_rows()
        } else {
            fanout_rows()
        };
        table(&mut out, reports, &rows);
        let integrity: Vec<String> = TARGETS
            .iter()
            .filter_map(|(t, name)| reports.get(*t).map(|r| (name, r)))
            .filter(|(_, r)| r.scenario != "connect")
            .map(|(name, r)| {
                format!(
                    "{name} by {}: {} gaps, {} duplicates over {} subscribers",
                    r.integrity_basis,
                    r.integrity.totals.gaps,
                    r.integrity.totals.duplicates,
                    thousands(r.integrity.subscribers as f64)
                )
            })
            .collect();
        if !integrity.is_empty() {
            let _ = writeln!(out, "\nIntegrity: {}.", integrity.join("; "));
        }
        let errors: Vec<String> = TARGETS
            .iter()
            .filter_map(|(t, name)| reports.get(*t).map(|r| (name, r)))
            .filter(|(_, r)| !r.errors.is_empty())
            .map(|(name, r)| {
                let list: Vec<_> = r.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
                format!("{name}: {}", list.join(", "))
            })
            .collect();
        if !errors.is_empty() {
            let _ = writeln!(out, "\nErrors by code — {}.", errors.join("; "));
        }
        if let Some(links) = plot_links.get(case) {
            let _ = writeln!(out);
            for link in links {
                let _ = writeln!(out, "![{case}]({link})");
            }
        }
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{FanoutSummary, ServerSample};

    fn fanout(target: &str, per_sec: f64, p99: f64) -> Report {
        Report {
            target: target.into(),
            scenario: "fanout".into(),
            fanout: Some(FanoutSummary {
                deliveries_per_sec: per_sec,
                deliveries: 10,
                expected_deliveries: 10,
                ..Default::default()
            }),
            latency: crate::recorder::LatencySummary {
                p99_ms: p99,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-1000.0), "-1,000");
        assert_eq!(millis(0.123), "0.12");
        assert_eq!(millis(12.34), "12.3");
        assert_eq!(millis(123.4), "123");
        assert_eq!(ratio(Some(3.0), Some(2.0)), "1.50×");
        assert_eq!(ratio(Some(3.0), Some(0.0)), "–");
        assert_eq!(ratio(None, Some(1.0)), "–");
    }

    #[test]
    fn the_table_has_a_ratio_column_per_peer_and_goals_are_judged() {
        let mut cases = Cases::new();
        cases.insert(
            "fanout-1x1000-saturation".into(),
            BTreeMap::from([
                ("atrium".into(), fanout("atrium", 600_000.0, 30.0)),
                ("socketio".into(), fanout("socketio", 100_000.0, 90.0)),
                ("nats".into(), fanout("nats", 1_000_000.0, 20.0)),
            ]),
        );
        cases.insert(
            "fanout-1x1000-half".into(),
            BTreeMap::from([("atrium".into(), fanout("atrium", 300_000.0, 12.0))]),
        );
        let mut idle = Report {
            target: "atrium".into(),
            scenario: "connect".into(),
            server: Some(ServerSample {
                rss_per_session_bytes: 10.0 * 1024.0,
                ..Default::default()
            }),
            ..Default::default()
        };
        idle.sessions.connected = 19_000;
        cases.insert("idle".into(), BTreeMap::from([("atrium".into(), idle)]));
        let md = markdown(&cases, "bash loadtest/compare.sh", &BTreeMap::new());
        assert!(
            md.contains(
                "| Metric | Atrium | Socket.IO | NATS | Atrium ÷ Socket.IO | Atrium ÷ NATS |"
            ),
            "{md}"
        );
        assert!(md.contains("| deliveries/s (higher is better) | 600,000 | 100,000 | 1,000,000 | 6.00× | 0.60× |"), "{md}");
        assert!(
            md.contains("Atrium delivers 6.00× Socket.IO (goal ≥ 3×): **met**"),
            "{md}"
        );
        assert!(
            md.contains("Atrium delivers 0.60× NATS (goal ≥ 1.2×): **not met**"),
            "{md}"
        );
        assert!(
            md.contains("p99 12.0 ms at half of its saturation rate (goal ≤ 25 ms): **met**"),
            "{md}"
        );
        assert!(
            md.contains("RSS 10.0 KiB per idle session (goal ≤ 8 KiB): **not met**"),
            "{md}"
        );
        assert!(md.contains("| sessions open | 19,000 |"), "{md}");
    }

    #[test]
    fn cases_read_saturation_then_half_then_same_rate_and_times_are_utc() {
        let mut cases = Cases::new();
        for case in [
            "idle-sessions",
            "fanout-1x1000-half",
            "fanout-1x1000-same-rate",
            "fanout-100x100-saturation",
            "fanout-1x1000-saturation",
        ] {
            cases.insert(case.into(), BTreeMap::new());
        }
        let order: Vec<_> = in_reading_order(&cases)
            .into_iter()
            .map(|(c, _)| c.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "fanout-100x100-saturation",
                "fanout-1x1000-saturation",
                "fanout-1x1000-half",
                "fanout-1x1000-same-rate",
                "idle-sessions"
            ]
        );
        assert_eq!(utc(1_795_656_224_001), "2026-11-26 01:23");
    }
}

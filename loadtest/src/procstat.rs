//! Memory and CPU time of a process, from `/proc` (Linux).
//!
//! The coordinator samples the server (given by `--server-pid`) before and during a run: RSS
//! growth divided by the sessions opened is the memory per session, and CPU time over the active
//! phase shows how many cores the server used. Workers report their own CPU time, so a report
//! also shows when the load generator, not the server, was the limit.

use std::path::Path;

/// `VmRSS` from `/proc/<pid>/status`, in KiB.
pub fn parse_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// `utime + stime` (fields 14 and 15) from `/proc/<pid>/stat`, in clock ticks. The command name
/// (field 2) is in parentheses and may contain spaces or parentheses, so fields are counted from
/// the last `)`.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    // After the name: field 3 (state) is the first; utime is field 14, i.e. the 12th here.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn proc_file(pid: Option<u32>, name: &str) -> Option<String> {
    let dir = match pid {
        Some(pid) => format!("/proc/{pid}"),
        None => "/proc/self".to_owned(),
    };
    std::fs::read_to_string(Path::new(&dir).join(name)).ok()
}

/// Resident memory of `pid` (or this process), KiB.
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    parse_rss_kib(&proc_file(pid, "status")?)
}

/// CPU time (user + system) of `pid` (or this process), seconds.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let ticks = parse_cpu_ticks(&proc_file(pid, "stat")?)?;
    Some(ticks as f64 / rustix::param::clock_ticks_per_second() as f64)
}

/// Raises the soft open-file limit to the hard limit and returns the new soft limit. Every
/// session is a socket; the default soft limit (often 1,024) would stop a run early.
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )?;
    }
    Ok(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX))
}

/// The 1-minute load average (`/proc/loadavg`): how busy the shared machine was.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The ephemeral port range (`/proc/sys/net/ipv4/ip_local_port_range`): how many connections
/// one source address can open to one destination.
pub fn ephemeral_ports() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().map(|n| n.parse::<u64>().ok());
    let (low, high) = (it.next()??, it.next()??);
    Some(high.saturating_sub(low) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_from_status() {
        let status = "Name:\tatrium\nVmPeak:\t  900000 kB\nVmRSS:\t   123456 kB\nThreads:\t3\n";
        assert_eq!(parse_rss_kib(status), Some(123_456));
        assert_eq!(parse_rss_kib("Name: x\n"), None);
    }

    #[test]
    fn reads_cpu_ticks_even_with_odd_process_names() {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 \
                    731 269 0 0 20 0 3 0 12345 1000000 2000 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(1000));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn this_process_is_measurable() {
        assert!(rss_kib(None).is_some_and(|kib| kib > 0));
        assert!(cpu_seconds(None).is_some());
        assert!(raise_nofile_limit().is_ok_and(|n| n > 0));
        assert!(load_average().is_some_and(|l| l >= 0.0));
    }
}

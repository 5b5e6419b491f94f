//! Turning Nagle's algorithm off on the connections to PostgreSQL.
//!
//! sqlx 0.9.0 opens its TCP connections without `TCP_NODELAY` (a regression, sqlx issue #4335;
//! fixed upstream by pull request #4336, not in a release as of 0.9.0). A statement whose
//! message does not fit the socket's send buffer in one write, which is every group-commit
//! batch, then goes out in two parts, and the kernel holds the second part back until the
//! server acknowledges the first, which the server delays by up to 40 ms. Measured on this
//! machine: a 256-message batch took ~100 ms over TCP and ~10 ms over a Unix socket.
//!
//! sqlx gives no access to its socket, so right after it opens a connection the pool calls
//! [`disable_nagle`], which looks through this process's open descriptors for TCP sockets whose
//! peer is the database server and sets `TCP_NODELAY` on them (Linux, where `/proc/self/fd`
//! lists them; elsewhere it does nothing). It only ever reads a socket's peer address and
//! flips that one option. Delete this module once sqlx sets the option itself.

use std::net::SocketAddr;

/// The addresses `host:port` resolves to (none for a Unix-socket host, which has no Nagle).
pub(super) async fn server_addresses(host: &str, port: u16) -> Vec<SocketAddr> {
    if host.starts_with('/') {
        return Vec::new();
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => addrs.map(canonical).collect(),
        Err(e) => {
            tracing::debug!(host, error = %e, "cannot resolve database host for TCP_NODELAY");
            Vec::new()
        }
    }
}

/// Sets `TCP_NODELAY` on every TCP socket of this process connected to one of `server`.
#[cfg(target_os = "linux")]
pub(super) fn disable_nagle(server: &[SocketAddr]) {
    use std::os::fd::{BorrowedFd, RawFd};

    if server.is_empty() {
        return;
    }
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<RawFd>().ok())
        else {
            continue;
        };
        // Only sockets: `/proc/self/fd/N` links to `socket:[inode]` for them.
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor was listed as open a moment ago and is only borrowed for the
        // getpeername/getsockopt/setsockopt calls below. Should another thread close it (and
        // the number be reused) in between, those calls fail or act on a socket whose peer we
        // check first; none of them reads, writes or closes anything.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let peer = socket
            .peer_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(canonical);
        if peer.is_some_and(|p| server.contains(&p))
            && socket.tcp_nodelay().is_ok_and(|on| !on)
            && let Err(e) = socket.set_tcp_nodelay(true)
        {
            tracing::debug!(fd, error = %e, "cannot set TCP_NODELAY on a database connection");
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn disable_nagle(_server: &[SocketAddr]) {}

/// IPv4-mapped IPv6 addresses compare as their IPv4 form.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sets_nodelay_on_sockets_to_the_server_only() {
        let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let to_server = tokio::net::TcpStream::connect(server.local_addr().unwrap())
            .await
            .unwrap();
        let to_other = tokio::net::TcpStream::connect(other.local_addr().unwrap())
            .await
            .unwrap();
        assert!(!to_server.nodelay().unwrap());

        let addrs = server_addresses("127.0.0.1", server.local_addr().unwrap().port()).await;
        disable_nagle(&addrs);

        assert!(to_server.nodelay().unwrap());
        assert!(!to_other.nodelay().unwrap());
        assert!(
            server_addresses("/var/run/postgresql", 5432)
                .await
                .is_empty()
        );
    }
}

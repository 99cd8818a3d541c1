//! The BIRD control-socket client: connect, read the greeting, send one command, read the reply.
//! The only code here that does I/O; framing and tables are parsed by `reply` and `protocols`.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use super::protocols::{ProtocolsError, parse_protocols, peer_rows};
use super::reply::{Decoder, Progress, Reply, ReplyError};
use crate::status::model::PeerRow;

/// calicoctl's read deadline, re-armed for every read.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// BIRD (IPv4) sockets, in the order calicoctl tries them: calico-node's, then a host BIRD's.
pub const IPV4_SOCKETS: [&str; 2] = ["/var/run/calico/bird.ctl", "/var/run/bird/bird.ctl"];
/// BIRD6 (IPv6) sockets, same order.
pub const IPV6_SOCKETS: [&str; 2] = ["/var/run/calico/bird6.ctl", "/var/run/bird/bird6.ctl"];
/// The command [`node_peers`] sends: every protocol with its details, in one reply.
pub const SHOW_PROTOCOLS_ALL: &str = "show protocols all";

const READ_BUFFER: usize = 64 << 10;

/// Why BIRD could not be read. Each message names the socket and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BirdError {
    #[error(
        "cannot read BIRD at {}: no such socket. BIRD (calico-node's BGP daemon) creates it when it runs; \
         is calico-node running on this node with the BIRD backend? Give the path with --bird-socket.",
        .path.display()
    )]
    NotFound { path: PathBuf },
    #[error(
        "cannot read BIRD at {}: permission denied. The socket belongs to root; run as root (sudo), \
         as calicoctl node status must.",
        .path.display()
    )]
    PermissionDenied { path: PathBuf },
    #[error(
        "cannot read BIRD at {}: connection refused. The socket file is there but no BIRD listens on it: \
         BIRD is not running (a stale socket left by a BIRD that stopped). Check calico-node on this node \
         (its bird service and logs), or give another path with --bird-socket.",
        .path.display()
    )]
    Refused { path: PathBuf },
    #[error(
        "BIRD at {} did not answer within {after:?} (waiting for {waiting_for}). BIRD may be stuck or very \
         busy; try again, and check calico-node's logs on this node.",
        .path.display()
    )]
    Timeout { path: PathBuf, after: Duration, waiting_for: &'static str },
    #[error(
        "BIRD at {} closed the connection in the middle of its reply (BIRD stopped or restarted?)",
        .path.display()
    )]
    Closed { path: PathBuf },
    #[error(
        "{} does not look like a BIRD control socket: it greeted with {greeting:?} instead of \
         \"0001 BIRD <version> ready.\"",
        .path.display()
    )]
    NotBird { path: PathBuf, greeting: String },
    #[error("cannot read BIRD at {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("BIRD at {}: {source}", .path.display())]
    Reply { path: PathBuf, source: ReplyError },
    #[error("BIRD at {}: {source}", .path.display())]
    Protocols { path: PathBuf, source: ProtocolsError },
    #[error("the command {command:?} cannot be sent to BIRD: it must be one non-empty line")]
    BadCommand { command: String },
    #[error("no BIRD socket to read; give one with --bird-socket (calico-node's is /var/run/calico/bird.ctl)")]
    NoSockets,
}

impl BirdError {
    /// No BIRD behind this path (no socket, or a socket nobody listens on).
    pub fn is_absent(&self) -> bool {
        matches!(self, BirdError::NotFound { .. } | BirdError::Refused { .. })
    }
}

/// Connects to BIRD's socket at `path`, reads the greeting, sends `command` and reads the whole
/// reply. `timeout` applies to the connect and to every read and write (re-armed each time). A
/// BIRD error answer (8xxx/9xxx) is an error.
pub async fn query(path: &Path, command: &str, timeout: Duration) -> Result<Reply, BirdError> {
    if command.trim().is_empty() || command.contains(['\n', '\r']) {
        return Err(BirdError::BadCommand { command: command.to_string() });
    }
    let stream = match tokio::time::timeout(timeout, UnixStream::connect(path)).await {
        Err(_) => return Err(timed_out(path, timeout, "the connection")),
        Ok(Err(e)) => return Err(io_error(path, e)),
        Ok(Ok(s)) => s,
    };
    let mut conn = Conn { stream, path, timeout, buf: vec![0; READ_BUFFER], leftover: Vec::new() };
    let greeting = conn.read_reply("its greeting").await?;
    if greeting.code() != 1 {
        return Err(match greeting.error() {
            Some(source) => BirdError::Reply { path: path.to_path_buf(), source },
            None => BirdError::NotBird { path: path.to_path_buf(), greeting: greeting.final_line().text.to_string() },
        });
    }
    let line = format!("{command}\n");
    match tokio::time::timeout(timeout, conn.stream.write_all(line.as_bytes())).await {
        Err(_) => return Err(timed_out(path, timeout, "it to take the command")),
        Ok(Err(e)) => return Err(io_error(path, e)),
        Ok(Ok(())) => {}
    }
    let reply = conn.read_reply("its reply").await?;
    reply.check().map_err(|source| BirdError::Reply { path: path.to_path_buf(), source })
}

/// The BGP peers of `node` from its BIRD sockets (IPv4 `bird.ctl`, IPv6 `bird6.ctl`), read with
/// `show protocols all` at the same time, rows in socket order then BIRD's order.
///
/// A socket with no BIRD behind it (missing, or refusing connections) is skipped when another socket
/// answered: a node without IPv6 has no running `bird6`. Any other failure (permission, timeout,
/// unreadable reply) fails the whole call, so that the table is never silently incomplete. When
/// every socket is absent, the error is the first one's.
pub async fn node_peers(node: &str, sockets: &[PathBuf], timeout: Duration) -> Result<Vec<PeerRow>, BirdError> {
    let replies = futures::future::join_all(sockets.iter().map(|s| query(s, SHOW_PROTOCOLS_ALL, timeout))).await;
    let mut rows = Vec::new();
    let mut answered = false;
    let mut absent = None;
    for (path, reply) in sockets.iter().zip(replies) {
        match reply {
            Ok(reply) => {
                let protocols =
                    parse_protocols(reply).map_err(|source| BirdError::Protocols { path: path.clone(), source })?;
                rows.extend(peer_rows(node, &protocols));
                answered = true;
            }
            Err(e) if e.is_absent() => {
                absent.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match absent {
        Some(e) if !answered => Err(e),
        None if !answered => Err(BirdError::NoSockets),
        _ => Ok(rows),
    }
}

/// The routes BIRD at `path` received from its BGP sessions with `neighbor`: the names of those
/// sessions (`Global_172_31_13_116`, …) and the prefixes, sorted (`show protocols all`, then
/// `show route protocol <name>` for each).
pub async fn routes_from(
    path: &Path,
    neighbor: IpAddr,
    timeout: Duration,
) -> Result<(Vec<String>, Vec<IpNet>), BirdError> {
    let reply = query(path, SHOW_PROTOCOLS_ALL, timeout).await?;
    let protocols = parse_protocols(reply).map_err(|source| BirdError::Protocols { path: path.into(), source })?;
    let names: Vec<String> = protocols
        .iter()
        .filter(|p| p.proto == "BGP")
        .filter(|p| p.details.neighbor_address.and_then(|a| a.parse::<IpAddr>().ok()) == Some(neighbor))
        .map(|p| p.name.to_string())
        .collect();
    let mut prefixes = Vec::new();
    for name in &names {
        let reply = query(path, &format!("show route protocol {name}"), timeout).await?;
        prefixes.extend(super::routes::route_prefixes(&reply));
    }
    prefixes.sort();
    prefixes.dedup();
    Ok((names, prefixes))
}

/// The sockets to read on this host, as calicoctl picks them: the first existing of
/// [`IPV4_SOCKETS`], then the first existing of [`IPV6_SOCKETS`]. Only sockets that exist are
/// listed, so the list is empty when this machine runs no BIRD (not a Calico node, or the socket
/// folder is not readable by this user).
pub fn default_sockets() -> Vec<PathBuf> {
    let paths = |names: [&str; 2]| names.map(PathBuf::from).to_vec();
    pick_sockets(&paths(IPV4_SOCKETS), &paths(IPV6_SOCKETS))
}

pub(super) fn pick_sockets(v4: &[PathBuf], v6: &[PathBuf]) -> Vec<PathBuf> {
    let first = |c: &[PathBuf]| c.iter().find(|p| p.exists()).cloned();
    first(v4).into_iter().chain(first(v6)).collect()
}

struct Conn<'a> {
    stream: UnixStream,
    path: &'a Path,
    timeout: Duration,
    buf: Vec<u8>,
    /// Bytes read after the end of the previous reply.
    leftover: Vec<u8>,
}

impl Conn<'_> {
    async fn read_reply(&mut self, waiting_for: &'static str) -> Result<Reply, BirdError> {
        let mut decoder = Decoder::new();
        let leftover = std::mem::take(&mut self.leftover);
        if let Progress::Done { reply, used } = decoder.feed(&leftover).map_err(|e| self.reply_error(e))? {
            self.leftover = leftover.get(used..).unwrap_or_default().to_vec();
            return Ok(reply);
        }
        loop {
            let n = match tokio::time::timeout(self.timeout, self.stream.read(&mut self.buf)).await {
                Err(_) => return Err(timed_out(self.path, self.timeout, waiting_for)),
                Ok(Err(e)) => return Err(io_error(self.path, e)),
                Ok(Ok(n)) => n,
            };
            let Some(chunk) = self.buf.get(..n).filter(|c| !c.is_empty()) else {
                return Err(BirdError::Closed { path: self.path.to_path_buf() });
            };
            match decoder.feed(chunk) {
                Err(e) => return Err(self.reply_error(e)),
                Ok(Progress::NeedMore) => {
                    if waiting_for == "its reply" && decoder.lines_read() > 0 {
                        test_hold().await;
                    }
                }
                Ok(Progress::Done { reply, used }) => {
                    self.leftover = chunk.get(used..).unwrap_or_default().to_vec();
                    return Ok(reply);
                }
            }
        }
    }

    fn reply_error(&self, source: ReplyError) -> BirdError {
        BirdError::Reply { path: self.path.to_path_buf(), source }
    }
}

/// Test hook (tests/bird_lab.rs): with `CALICO_BGP_WIZARD_TEST_BIRD_HOLD_FILE=<file>` set and that
/// file present, stop in the middle of a reply (after its first chunk) until the file is removed,
/// creating `<file>.held` to say so, so that a test can kill BIRD at exactly that point. Does
/// nothing unless the variable is set; holds once per process.
async fn test_hold() {
    static HELD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Some(file) = std::env::var_os("CALICO_BGP_WIZARD_TEST_BIRD_HOLD_FILE").map(PathBuf::from) else { return };
    if !file.exists() || HELD.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let mut held = file.clone().into_os_string();
    held.push(".held");
    let _ = std::fs::write(&held, b"");
    while file.exists() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn timed_out(path: &Path, after: Duration, waiting_for: &'static str) -> BirdError {
    BirdError::Timeout { path: path.to_path_buf(), after, waiting_for }
}

pub(super) fn io_error(path: &Path, e: io::Error) -> BirdError {
    let path = path.to_path_buf();
    match e.kind() {
        io::ErrorKind::NotFound => BirdError::NotFound { path },
        io::ErrorKind::PermissionDenied => BirdError::PermissionDenied { path },
        io::ErrorKind::ConnectionRefused => BirdError::Refused { path },
        _ => BirdError::Io { path, source: e },
    }
}

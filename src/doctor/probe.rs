//! TCP connection attempts to the BGP port: which hosts accept, refuse, or never answer.
//!
//! Each attempt is a plain `connect()` that is closed as soon as it is answered: no byte of BGP is
//! sent. At most [`CONCURRENCY`] attempts are in flight, each bounded by the timeout, so a
//! cluster of any size takes about `targets / CONCURRENCY × timeout` at worst.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use futures::StreamExt;

/// How long one attempt may wait for an answer.
pub const TIMEOUT: Duration = Duration::from_secs(1);
/// Attempts in flight at once.
pub const CONCURRENCY: usize = 64;
/// Without `--all`, clusters with more nodes than this are sampled.
pub const SAMPLE_LIMIT: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Node,
    Switch,
}

/// One host to try.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    /// The node's name, or `switch`.
    pub name: String,
    pub role: Role,
    pub address: IpAddr,
    pub port: u16,
}

/// What an attempt found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "state", content = "error")]
pub enum PortState {
    /// The connection was accepted: something (a BGP speaker, we hope) listens.
    Open,
    /// The host answered with a reset: it is reachable, and nothing listens on the port.
    Refused,
    /// No answer within the timeout: a firewall on the way or on the host drops the packets.
    Filtered,
    /// An ICMP error (no route, host or network unreachable or prohibited): a firewall that
    /// rejects, or no path at all.
    Unreachable,
    /// Anything else the socket reported.
    Error(String),
}

impl PortState {
    pub fn word(&self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Refused => "refused",
            PortState::Filtered => "filtered",
            PortState::Unreachable => "unreachable",
            PortState::Error(_) => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Probe {
    #[serde(flatten)]
    pub target: Target,
    #[serde(flatten)]
    pub state: PortState,
    /// Time until the answer (or the timeout), in milliseconds.
    pub millis: f64,
    /// What the state means for BGP (filled in by [`super::check`]).
    pub explanation: String,
}

/// Sort an I/O error from `connect()` into a [`PortState`].
pub fn classify(e: &std::io::Error) -> PortState {
    match e.kind() {
        ErrorKind::ConnectionRefused => PortState::Refused,
        ErrorKind::TimedOut => PortState::Filtered,
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable | ErrorKind::AddrNotAvailable => {
            PortState::Unreachable
        }
        // EACCES/EPERM: a local firewall rule rejected the outgoing packet.
        ErrorKind::PermissionDenied => PortState::Unreachable,
        _ => PortState::Error(e.to_string()),
    }
}

/// One attempt.
pub async fn probe_one(target: Target, timeout: Duration) -> Probe {
    let started = Instant::now();
    let addr = SocketAddr::new(target.address, target.port);
    let state = match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Err(_) => PortState::Filtered,
        Ok(Ok(stream)) => {
            drop(stream);
            PortState::Open
        }
        Ok(Err(e)) => classify(&e),
    };
    Probe { target, state, millis: started.elapsed().as_secs_f64() * 1000.0, explanation: String::new() }
}

/// Every attempt, [`CONCURRENCY`] at a time; results in the targets' order.
pub async fn probe_all(targets: Vec<Target>, timeout: Duration) -> Vec<Probe> {
    futures::stream::iter(targets).map(|t| probe_one(t, timeout)).buffered(CONCURRENCY).collect().await
}

/// Which of `candidates` (already in priority order: route reflector candidates first) to try.
/// Returns the indices to try; all of them when `all` or when they fit in `limit`, else every
/// index in `must` plus an even spread of the others up to `limit`.
pub fn sample(total: usize, must: &[usize], limit: usize, all: bool) -> Vec<usize> {
    if all || total <= limit {
        return (0..total).collect();
    }
    let mut chosen: Vec<usize> = must.iter().copied().filter(|&i| i < total).collect();
    chosen.sort_unstable();
    chosen.dedup();
    let room = limit.saturating_sub(chosen.len());
    let rest: Vec<usize> = (0..total).filter(|i| chosen.binary_search(i).is_err()).collect();
    if room > 0 && !rest.is_empty() {
        let step = rest.len() as f64 / room.min(rest.len()) as f64;
        for k in 0..room.min(rest.len()) {
            chosen.push(rest[(k as f64 * step) as usize]);
        }
    }
    chosen.sort_unstable();
    chosen.dedup();
    chosen
}

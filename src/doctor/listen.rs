//! Who listens on the BGP port on this host: BIRD (good), nothing (BIRD not running yet), or
//! another program (calico-node's BIRD then fails with "No listening socket").
//!
//! Read from `/proc/net/tcp` and `/proc/net/tcp6` of this process's network namespace (a
//! calico-node pod uses the host's), and the owner from `/proc/<pid>/fd`, which needs root for
//! other users' processes.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenState {
    /// BIRD holds the port.
    Bird,
    /// Another program holds the port.
    Other,
    /// Nothing listens on the port.
    Free,
    /// Something listens, but its program could not be seen (not root).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Listen {
    pub port: u16,
    pub state: ListenState,
    /// The owner's command name (`/proc/<pid>/comm`), when known.
    pub program: Option<String>,
    pub pid: Option<u32>,
    /// The listening address, e.g. `0.0.0.0` or `::`.
    pub address: Option<String>,
}

/// The inodes (and local addresses) of the sockets listening on `port` in a `/proc/net/tcp{,6}` text.
pub fn listening_inodes(proc_net_tcp: &str, port: u16) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for line in proc_net_tcp.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let Some((addr, p)) = f[1].split_once(':') else { continue };
        if u16::from_str_radix(p, 16).ok() != Some(port) {
            continue;
        }
        if let Ok(inode) = f[9].parse::<u64>() {
            out.push((inode, hex_address(addr)));
        }
    }
    out
}

/// `0100007F` → `127.0.0.1`; 32 hex digits → an IPv6 address (both in the kernel's byte order).
fn hex_address(hex: &str) -> String {
    let bytes: Vec<u8> =
        (0..hex.len() / 2).filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()).collect();
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[3], bytes[2], bytes[1], bytes[0]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            for w in 0..4 {
                for k in 0..4 {
                    b[w * 4 + k] = bytes[w * 4 + 3 - k];
                }
            }
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => hex.to_string(),
    }
}

/// True for BIRD's process names (BIRD 1.x `bird`/`bird6`, BIRD 2 `bird`).
pub fn is_bird(program: &str) -> bool {
    matches!(program.trim(), "bird" | "bird6")
}

/// The process owning socket `inode`, from `/proc` (`proc_root`, normally `/proc`).
fn owner(proc_root: &Path, inode: u64) -> Option<(u32, String)> {
    let want = format!("socket:[{inode}]");
    for entry in std::fs::read_dir(proc_root).ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == want.as_str()) {
                let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                return Some((pid, comm.trim().to_string()));
            }
        }
    }
    None
}

/// Who listens on TCP `port` here.
pub fn check(port: u16) -> Listen {
    let proc_root = Path::new("/proc");
    let mut sockets = Vec::new();
    for file in ["net/tcp", "net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(proc_root.join(file)) {
            sockets.extend(listening_inodes(&text, port));
        }
    }
    let Some((_, address)) = sockets.first().cloned() else {
        return Listen { port, state: ListenState::Free, program: None, pid: None, address: None };
    };
    // Prefer a non-BIRD owner if several sockets listen (BIRD and another daemon on different
    // addresses): that one is the problem to report.
    let owners: Vec<(u32, String, String)> =
        sockets.iter().filter_map(|(i, a)| owner(proc_root, *i).map(|(p, c)| (p, c, a.clone()))).collect();
    match owners.iter().find(|(_, c, _)| !is_bird(c)).or(owners.first()) {
        Some((pid, comm, addr)) => Listen {
            port,
            state: if is_bird(comm) { ListenState::Bird } else { ListenState::Other },
            program: Some(comm.clone()),
            pid: Some(*pid),
            address: Some(addr.clone()),
        },
        None => Listen { port, state: ListenState::Unknown, program: None, pid: None, address: Some(address) },
    }
}

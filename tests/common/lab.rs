//! A real BGP lab in network namespaces: BIRD 1.6 on three "nodes" configured as Calico's confd
//! would (two route reflectors and one client), FRR as the top-of-rack switch, and a client host
//! that reaches the pods only through the switch. Needs root and the packages `bird`, `frr`,
//! `iputils-ping` and `iproute2`, and for the firewall helpers ([`Lab::block_bgp`],
//! [`Lab::record_outgoing`]) `nftables` (`tests/run-all.sh` installs them); [`Lab::listen_other`]
//! runs python3.
//!
//! ```text
//!            <prefix>lan: bridge br0 (172.31.13.0/24); veth v-<host> <-> eth0 of each host below
//!  ┌──────────────┬──────────────┬──────────────┬──────────────┬──────────────┐
//! switch .116     k8s-1 .27      k8s-2 .28      k8s-3 .29      client .200
//! FRR AS 7675     BIRD 1.6 RR    BIRD 1.6 RR    BIRD 1.6       route 172.27.208.0/22
//! ip_forward=1    AS 64512       AS 64512       RR client      via .116
//!                 pod .208.1     pod .208.65    pod .208.129   (veth pod0/cali0pod1 in the node)
//!                 block .0/26    block .64/26   block .128/26  (static blackhole, exported)
//! ```
//!
//! The switch and the nodes forward (the switch's ECMP route for a block may point at the other
//! reflector, which passes it on); nobody sends ICMP redirects and the client accepts none, so
//! client->pod traffic always crosses the switch, and stops when the switch stops.
//!
//! Sessions: k8s-1 <-> k8s-2 plain iBGP; k8s-1/k8s-2 -> k8s-3 `rr client; rr cluster id 244.0.0.1`;
//! k8s-1/k8s-2 <-> switch eBGP. BIRD protocol names follow confd (`Node_172_31_13_116`, ...). The
//! configs copy Calico's BIRD 1.x templates, plus `passive on` on the lower-IP side of each iBGP
//! pair (without it, BIRD 1.6's simultaneous open with `graceful restart` flaps for 10–30 s) and a
//! `log` line. Each BIRD has its own control socket `<run>/<node>/bird.ctl`.
//!
//! Isolation:
//! * every namespace is named `bgplab-<pid>-<counter>-<host>`, unique per lab instance, so parallel
//!   tests and other runs never clash; stale ones of dead test processes are swept at the next start;
//! * veth pairs are created directly inside their two namespaces: no namespace has a link to the
//!   root namespace, none has a default route, so no lab packet can leave the lab;
//! * everything is written under the lab's run dir `/tmp/bgplab-<pid>-<counter>-XXXXXX`; FRR (zebra and
//!   bgpd, run directly as user `frr`) runs in a private mount namespace where `/var/tmp` and
//!   `/run/frr` are bind mounts of folders in the run dir;
//! * each daemon runs under a small shell watchdog that SIGKILLs it when the test process goes
//!   away (even when killed outright), and [`Lab`]'s `Drop` (also after a panic) kills every
//!   daemon by PID, kills whatever `ip netns pids` still lists, deletes the namespaces and the
//!   run dir.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The LAN all hosts share.
pub const LAN_PREFIX: &str = "172.31.13";
pub const SWITCH_IP: &str = "172.31.13.116";
pub const SWITCH_AS: u32 = 7675;
pub const CLUSTER_AS: u32 = 64512;
pub const CLUSTER_ID: &str = "244.0.0.1";
pub const CLIENT_IP: &str = "172.31.13.200";
/// The pod pool, routed by the client via the switch.
pub const POOL: &str = "172.27.208.0/22";
/// One pod IP per node, in the node's block.
pub const POD_IPS: [&str; 3] = ["172.27.208.1", "172.27.208.65", "172.27.208.129"];
const NODE_NAMES: [&str; 3] = ["k8s-1", "k8s-2", "k8s-3"];
const NODE_IPS: [&str; 3] = ["172.31.13.27", "172.31.13.28", "172.31.13.29"];
const BLOCKS: [&str; 3] = ["172.27.208.0/26", "172.27.208.64/26", "172.27.208.128/26"];
/// Route reflectors (have a cluster ID).
const REFLECTORS: [bool; 3] = [true, true, false];
const FRR_DIR: &str = "/usr/lib/frr";
/// How long [`Lab::up`] waits for every session to be Established.
pub const UP_DEADLINE: Duration = Duration::from_secs(60);

/// Runs `"$@"` with stdout/stderr to `$1` and prints its PID; SIGKILLs it when our end of the
/// watchdog's stdin closes (lab dropped, or test process gone). Exits with the daemon's status
/// when the daemon exits on its own.
const WATCHDOG: &str = r#"exec 3<&0 </dev/null
log=$1; shift
"$@" >"$log" 2>&1 3<&- &
pid=$!
echo "$pid"
exec >/dev/null 2>&1
{ read -r _ <&3; kill -9 "$pid"; } &
reader=$!
exec 3<&-
wait "$pid"; rc=$?
kill "$reader"
exit $rc"#;

/// Private mount namespace for an FRR daemon: `/var/tmp` and `/run/frr` from the run dir, then the
/// daemon. (`$1` is `<run>/switch`.) If the host has no `/run/frr`, `/run` itself is replaced
/// by `<run>/switch/run` (which holds `frr/`), so nothing is created outside the run dir.
const FRR_MOUNTS: &str = r#"set -e
d=$1; shift
mount --bind "$d/var-tmp" /var/tmp
if [ -d /run/frr ]; then mount --bind "$d/run/frr" /run/frr; else mount --bind "$d/run" /run; fi
exec "$@""#;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One BGP row of `birdc show protocols`: the columns, `info` trimmed (e.g.
/// `Active        Socket: Connection refused`, inner spaces kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BirdcRow {
    pub name: String,
    pub proto: String,
    pub table: String,
    pub state: String,
    pub since: String,
    pub info: String,
}

/// Parse `birdc show protocols` output (text, with or without the `BIRD … ready.` line and the
/// header): every protocol row, in order.
pub fn parse_birdc_protocols(text: &str) -> Vec<BirdcRow> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let toks = tokens(line);
        if toks.len() < 5 || toks[0].0 == "name" || toks[0].0 == "BIRD" {
            continue;
        }
        let info_start = toks[4].1 + toks[4].0.len();
        rows.push(BirdcRow {
            name: toks[0].0.to_string(),
            proto: toks[1].0.to_string(),
            table: toks[2].0.to_string(),
            state: toks[3].0.to_string(),
            since: toks[4].0.to_string(),
            info: line[info_start..].trim().to_string(),
        });
    }
    rows
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens(line: &str) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((&line[s..i], s));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((&line[s..], s));
    }
    out
}

/// Poll `f` every 100 ms until it returns true; panic naming `what` after `deadline`.
pub fn wait_until(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    loop {
        if f() {
            return;
        }
        assert!(Instant::now() < end, "timed out after {deadline:?} waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Why the lab cannot run here, if it cannot: not root, or a package missing.
pub fn preflight() -> Result<(), String> {
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let mut missing = Vec::new();
    if uid.ok().as_deref() != Some("0") {
        missing.push("root (the lab creates network namespaces)".to_string());
    }
    for (bin, pkg) in [
        ("/usr/sbin/bird", "bird"),
        ("/usr/sbin/birdc", "bird"),
        ("/usr/lib/frr/zebra", "frr"),
        ("/usr/lib/frr/bgpd", "frr"),
        ("/usr/bin/ping", "iputils-ping"),
        ("/usr/sbin/ip", "iproute2"),
        ("/usr/bin/setpriv", "util-linux"),
        ("/usr/bin/unshare", "util-linux"),
    ] {
        if !Path::new(bin).exists() {
            missing.push(format!("{bin} (package {pkg})"));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the BGP lab cannot run here: missing {}. Run the tests with `sudo bash tests/run-all.sh`, \
             which installs bird, frr, iputils-ping and iproute2 and runs as root.",
            missing.join(", ")
        ))
    }
}

fn node_index(node: &str) -> usize {
    NODE_NAMES.iter().position(|n| *n == node).unwrap_or_else(|| panic!("no lab node {node:?}; nodes: {NODE_NAMES:?}"))
}

/// The address of `node` on the LAN.
pub fn node_ip(node: &str) -> &'static str {
    NODE_IPS[node_index(node)]
}

/// confd's protocol name for a `Node_` peer: `Node_172_31_13_116`.
pub fn protocol_name(ip: &str) -> String {
    format!("Node_{}", ip.replace('.', "_"))
}

struct Peer {
    ip: &'static str,
    asn: u32,
    passive: bool,
    rr_client: bool,
}

/// The peers confd would configure for node `i` (BGPPeers: reflectors peer each other and every
/// non-reflector; the reflectors peer the switch), in the order of the reference lab.
fn peers(i: usize) -> Vec<Peer> {
    let mut out = Vec::new();
    for (j, ip) in NODE_IPS.iter().enumerate() {
        if j == i || !(REFLECTORS[i] || REFLECTORS[j]) {
            continue;
        }
        out.push(Peer {
            ip,
            asn: CLUSTER_AS,
            // Lab: the lower IP of each iBGP pair waits for the connection (see the module doc).
            passive: i < j,
            // confd: iBGP, this node has a cluster ID, and the peer's differs (here: it has none).
            rr_client: REFLECTORS[i] && !REFLECTORS[j],
        });
    }
    if REFLECTORS[i] {
        out.push(Peer { ip: SWITCH_IP, asn: SWITCH_AS, passive: false, rr_client: false });
    }
    out
}

fn bird_cfg(run: &Path, i: usize, filler: bool) -> String {
    let node = NODE_NAMES[i];
    let dir = run.join(node);
    let dir = dir.display();
    let mut s = format!(
        r#"function apply_communities ()
{{
}}

# Generated by the lab (tests/common/lab.rs) -- mirrors calico confd bird.cfg.template (BIRD 1.x era)
include "{dir}/bird_aggr.cfg";
include "{dir}/bird_ipam.cfg";
"#
    );
    if filler {
        s.push_str(&format!("include \"{dir}/bird_filler.cfg\";\n"));
    }
    s.push_str(&format!(
        r#"
# Not in Calico (calico-node logs BIRD to stderr); handy for the lab.
log "{dir}/bird.log" all;

router id {ip};

# Configure synchronization between routing tables and kernel.
protocol kernel {{
  learn;             # Learn all alien routes from the kernel
  persist;           # Don't remove routes on bird shutdown
  scan time 2;       # Scan kernel routing table every 2 seconds
  import all;
  export filter calico_kernel_programming; # Default is export none
  graceful restart;  # Turn on graceful restart to reduce potential flaps in
                     # routes when reloading BIRD configuration.
  merge paths on;    # Allow export multipath routes (ECMP)
}}

# Watch interface up/down events.
protocol device {{
  debug {{ states }};
  scan time 2;    # Scan interfaces every 2 seconds
}}

protocol direct {{
  debug {{ states }};
  interface -"cali*", -"kube-ipvs*", "*"; # Exclude cali* and kube-ipvs* but
                                          # include everything else.
}}

# Template for all BGP clients
template bgp bgp_template {{
  debug {{ states }};
  description "Connection to BGP peer";
  local as {asn};
  multihop;
  gateway recursive; # This should be the default, but just in case.
  import all;        # Import all routes, since we don't know what the upstream
                     # topology is and therefore have to trust the ToR/RR.
  export filter calico_export_to_bgp_peers;  # Only want to export routes for workloads.
  add paths on;
  graceful restart;  # See comment in kernel section about graceful restart.
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
}}

# ------------- Node-to-node mesh -------------
# Node-to-node mesh disabled

# ------------- Global peers -------------
# No global peers configured.

# ------------- Node-specific peers -------------
"#,
        ip = NODE_IPS[i],
        asn = CLUSTER_AS,
    ));
    for p in peers(i) {
        s.push_str(&format!(
            "\n# For peer /host/{node}/peer_v4/{ip}\nprotocol bgp {name} from bgp_template {{\n  neighbor {ip} as {asn};\n  \
             source address {me};  # The local address we use for the TCP connection\n",
            ip = p.ip,
            name = protocol_name(p.ip),
            asn = p.asn,
            me = NODE_IPS[i],
        ));
        if p.passive {
            s.push_str("  passive on; # Lab: unidirectional like Calico's mesh, peer will connect to us.\n");
        }
        if p.rr_client {
            s.push_str(&format!("  rr client;\n  rr cluster id {CLUSTER_ID};\n"));
        }
        s.push_str("}\n");
    }
    s
}

fn bird_aggr_cfg(i: usize) -> String {
    let block = BLOCKS[i];
    format!(
        r#"# Generated by the lab (mirrors calico confd bird_aggr.cfg)

protocol static {{
   # IP blocks for this host.
   route {block} blackhole;
}}

# Aggregation of routes on this host; export the block, nothing beneath it.
function calico_aggr ()
{{
      # Block {block} is confirmed
      if ( net = {block} ) then {{ accept; }}
      if ( net ~ {block} ) then {{ reject; }}
}}
"#
    )
}

fn bird_ipam_cfg() -> String {
    format!(
        r#"# Generated by the lab (mirrors calico confd bird_ipam.cfg, BIRD 1.x era)
filter calico_export_to_bgp_peers {{
  # filter code terminates when it calls `accept;` or `reject;`, call apply_communities() before calico_aggr()
  apply_communities();
  calico_aggr();

  if ( net ~ {POOL} ) then {{
    accept;
  }}
  reject;
}}

filter calico_kernel_programming {{
  if ( net ~ {POOL} ) then {{
    accept;
  }}
  accept;
}}
"#
    )
}

/// The name of filler protocol `i`: 64 characters (BIRD 1.6's longest symbol), so every row of
/// `show protocols` is about 100 bytes.
pub fn filler_name(i: usize) -> String {
    let head = format!("fill_{i:05}_");
    format!("{head}{}", "x".repeat(64 - head.len()))
}

/// `n` static protocols in a table of their own (`filler`), so they reach neither the kernel nor
/// any BGP peer; they only make `show protocols` longer.
fn bird_filler_cfg(n: usize) -> String {
    let mut s = String::from(
        "# Lab only: non-BGP protocols that make `show protocols` replies larger than a socket buffer.\ntable filler;\n",
    );
    for i in 0..n {
        let k = i + 1;
        s.push_str(&format!(
            "protocol static {} {{ table filler; route 10.255.{}.{}/32 blackhole; }}\n",
            filler_name(i),
            (k >> 8) & 255,
            k & 255
        ));
    }
    s
}

fn bgpd_conf(run: &Path) -> String {
    let mut s = format!(
        r#"hostname switch
log file {log} informational
!
router bgp {SWITCH_AS}
 bgp router-id {SWITCH_IP}
 ! FRR >= 7.4 refuses to send/accept eBGP routes without policy unless:
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp log-neighbor-changes
 timers bgp 3 9
 neighbor CALICO peer-group
 neighbor CALICO remote-as {CLUSTER_AS}
 neighbor CALICO timers connect 5
"#,
        log = run.join("switch/bgpd.log").display()
    );
    for (i, ip) in NODE_IPS.iter().enumerate() {
        if REFLECTORS[i] {
            s.push_str(&format!(" neighbor {ip} peer-group CALICO\n neighbor {ip} description {}\n", NODE_NAMES[i]));
        }
    }
    s.push_str(
        " !\n address-family ipv4 unicast\n  neighbor CALICO activate\n  maximum-paths 8\n exit-address-family\n!\n",
    );
    s
}

fn zebra_conf(run: &Path) -> String {
    format!("hostname switch\nlog file {} informational\n!\n", run.join("switch/zebra.log").display())
}

/// Where a lab host sent packets (see [`Lab::record_outgoing`]), each list sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Every destination address of a packet it sent (any protocol).
    pub destinations: Vec<IpAddr>,
    /// Every IPv4 (address, port) it sent a TCP SYN to.
    pub connects: Vec<(IpAddr, u16)>,
}

/// Whether `ip` belongs to the lab: its LAN (172.31.13.0/24), its pool (172.27.208.0/22), or a
/// loopback address (which never leaves a namespace).
pub fn is_lab_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback() || (a, b, c) == (172, 31, 13) || (a, b) == (172, 27) && (208..212).contains(&c)
        }
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// A program that is not BIRD listening on a port in a node's namespace ([`Lab::listen_other`]);
/// killed on drop.
pub struct OtherListener {
    child: Child,
    /// Its PID.
    pub pid: u32,
    /// Its command name as `/proc/<pid>/comm` shows it (`python3`).
    pub program: String,
}

impl Drop for OtherListener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A daemon under its watchdog./// A daemon under its watchdog.
struct Daemon {
    /// `bird k8s-1`, `zebra`, `bgpd`.
    name: String,
    pid: u32,
    watchdog: Child,
    /// Closing it makes the watchdog SIGKILL the daemon.
    stdin: Option<ChildStdin>,
    /// The daemon's stdout/stderr.
    out: PathBuf,
}

impl Daemon {
    fn exited(&mut self) -> bool {
        !matches!(self.watchdog.try_wait(), Ok(None))
    }

    fn signal(&mut self, sig: &str) {
        if !self.exited() {
            let _ = Command::new("kill").args(["-s", sig, &self.pid.to_string()]).output();
        }
    }

    /// Wait until the daemon is gone (its watchdog exits right after it); SIGKILL after `grace`.
    fn wait_gone(&mut self, grace: Duration) -> Result<(), String> {
        let mut end = Instant::now() + grace;
        let mut killed = false;
        while !self.exited() {
            if Instant::now() >= end {
                if killed {
                    return Err(format!("{} (pid {}) did not exit after SIGKILL", self.name, self.pid));
                }
                self.signal("KILL");
                killed = true;
                end = Instant::now() + Duration::from_secs(10);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stdin.take();
        Ok(())
    }

    /// Send `sig` and wait until the daemon is gone; SIGKILL after `grace`.
    fn stop(&mut self, sig: &str, grace: Duration) -> Result<(), String> {
        self.signal(sig);
        self.wait_gone(grace)
    }
}

/// The lab: namespaces, daemons and the run dir, all removed on drop.
pub struct Lab {
    run: Option<tempfile::TempDir>,
    prefix: String,
    namespaces: Vec<String>,
    daemons: Mutex<Vec<Daemon>>,
}

impl Lab {
    /// Build the lab, start every daemon, and wait until every BGP session on every node is
    /// Established (and still is 0.5 s later).
    pub fn up() -> Lab {
        Lab::up_with_filler(0)
    }

    /// [`Lab::up`], plus `n` extra static protocols on k8s-1 (see [`filler_name`]) so its
    /// `show protocols` replies outgrow a UNIX socket buffer.
    pub fn up_with_filler(n: usize) -> Lab {
        let lab = Lab::start(n);
        lab.wait_established(UP_DEADLINE);
        lab
    }

    /// Build the lab and start the daemons without waiting for the sessions.
    pub fn start(filler: usize) -> Lab {
        if let Err(e) = preflight() {
            panic!("{e}");
        }
        sweep_stale();
        let pid = std::process::id();
        let prefix = format!("bgplab-{pid}-{}-", COUNTER.fetch_add(1, Ordering::SeqCst));
        let run = tempfile::Builder::new().prefix(&prefix).tempdir_in("/tmp").expect("create the lab's run dir");
        // Traversable by everyone, so a test can show that a socket's own mode refuses a user.
        set_mode(run.path(), 0o755);
        let mut lab = Lab { run: Some(run), prefix, namespaces: Vec::new(), daemons: Mutex::new(Vec::new()) };
        lab.build_network();
        lab.write_configs(filler);
        for node in NODE_NAMES {
            lab.start_bird(node);
        }
        lab.start_switch();
        lab
    }

    /// The three nodes.
    pub fn nodes() -> [&'static str; 3] {
        NODE_NAMES
    }

    /// The namespace prefix of this lab (`bgplab-<pid>-<n>-`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn run_dir(&self) -> &Path {
        self.run.as_ref().expect("run dir").path()
    }

    /// The network namespace of `host` (`lan`, `switch`, `k8s-1`…, `client`).
    pub fn netns(&self, host: &str) -> String {
        format!("{}{host}", self.prefix)
    }

    /// BIRD's control socket on `node`.
    pub fn socket(&self, node: &str) -> PathBuf {
        self.run_dir().join(NODE_NAMES[node_index(node)]).join("bird.ctl")
    }

    /// `birdc -s <socket> <cmd>` (`cmd` split on whitespace): its stdout.
    pub fn birdc(&self, node: &str, cmd: &str) -> String {
        let out = Command::new("birdc")
            .arg("-s")
            .arg(self.socket(node))
            .args(cmd.split_whitespace())
            .stdin(Stdio::null())
            .output()
            .expect("run birdc");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The BGP rows of `birdc show protocols` on `node`, in BIRD's order.
    pub fn bgp_rows(&self, node: &str) -> Vec<BirdcRow> {
        parse_birdc_protocols(&self.birdc(node, "show protocols")).into_iter().filter(|r| r.proto == "BGP").collect()
    }

    /// How many BGP sessions `node` has in this topology.
    pub fn peer_count(node: &str) -> usize {
        peers(node_index(node)).len()
    }

    /// The raw bytes BIRD sends on its control socket: the greeting line, and the whole reply to
    /// `cmd` (up to and including the final line, whose 5th byte is a space).
    pub fn socket_exchange(&self, node: &str, cmd: &str) -> (Vec<u8>, Vec<u8>) {
        let path = self.socket(node);
        let s = UnixStream::connect(&path).unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut greeting = Vec::new();
        r.read_until(b'\n', &mut greeting).unwrap();
        (&s).write_all(format!("{cmd}\n").as_bytes()).unwrap();
        let mut reply = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = r.read_until(b'\n', &mut line).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            assert!(n > 0, "{} closed the connection before the final line of {cmd:?}", path.display());
            reply.extend_from_slice(&line);
            if line.len() >= 5 && line[..4].iter().all(u8::is_ascii_digit) && line[4] == b' ' {
                return (greeting, reply);
            }
        }
    }

    /// Whether every BGP session on every node is Established.
    pub fn all_established(&self) -> bool {
        NODE_NAMES.iter().all(|n| {
            let rows = self.bgp_rows(n);
            rows.len() == Lab::peer_count(n)
                && rows.iter().all(|r| r.state == "up" && r.info.starts_with("Established"))
        })
    }

    /// Wait until every BGP session on every node is Established, and still is 0.5 s later
    /// (BIRD 1.6 can drop a fresh session on a colliding connect). Panics with the BIRD and FRR
    /// logs after `deadline`, or as soon as a daemon has died.
    pub fn wait_established(&self, deadline: Duration) {
        let start = Instant::now();
        loop {
            self.check_daemons();
            if self.all_established() {
                std::thread::sleep(Duration::from_millis(500));
                if self.all_established() {
                    return;
                }
            }
            if start.elapsed() > deadline {
                panic!(
                    "BGP lab {}: not every session Established after {deadline:?}\n{}",
                    self.prefix,
                    self.diagnostics()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Poll `f` every 100 ms until it returns true; after `deadline`, panic naming `what`, with
    /// the lab's logs.
    pub fn wait_until(&self, what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
        let end = Instant::now() + deadline;
        loop {
            if f() {
                return;
            }
            if Instant::now() >= end {
                panic!("timed out after {deadline:?} waiting until {what}\n{}", self.diagnostics());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stop the switch: SIGTERM bgpd and zebra (zebra then removes its routes) and wait until
    /// both exited.
    pub fn stop_switch(&self) {
        let mut daemons = self.daemons.lock().unwrap();
        let switch = |d: &Daemon| d.name == "bgpd" || d.name == "zebra";
        for d in daemons.iter_mut().filter(|d| switch(d)) {
            d.signal("TERM");
        }
        let errors: Vec<String> = daemons
            .iter_mut()
            .filter(|d| switch(d))
            .filter_map(|d| d.wait_gone(Duration::from_secs(15)).err())
            .collect();
        daemons.retain(|d| !switch(d));
        drop(daemons);
        assert!(errors.is_empty(), "stopping the switch: {errors:?}");
        let _ = std::fs::remove_file(self.run_dir().join("switch/zserv.api"));
        let left = self.ip_out(&["-n", &self.netns("switch"), "route", "show", "proto", "bgp"]);
        assert!(left.trim().is_empty(), "zebra left BGP routes in the switch after it stopped:\n{left}");
    }

    /// Start the switch: zebra, then (once its API socket exists) bgpd.
    pub fn start_switch(&self) {
        let sw = self.run_dir().join("switch");
        let common = |conf: &str, pid: &str| -> Vec<String> {
            vec![
                "-f".into(),
                sw.join(conf).display().to_string(),
                "-i".into(),
                sw.join(pid).display().to_string(),
                "-z".into(),
                sw.join("zserv.api").display().to_string(),
                "--vty_socket".into(),
                sw.display().to_string(),
                "-P".into(),
                "0".into(),
                "-u".into(),
                "frr".into(),
                "-g".into(),
                "frr".into(),
            ]
        };
        let frr = |daemon: &str, conf: &str, pid: &str| {
            let mut argv: Vec<String> = vec![
                "ip".into(),
                "netns".into(),
                "exec".into(),
                self.netns("switch"),
                "unshare".into(),
                "--mount".into(),
                "--propagation".into(),
                "private".into(),
                "sh".into(),
                "-c".into(),
                FRR_MOUNTS.into(),
                "sh".into(),
                sw.display().to_string(),
                format!("{FRR_DIR}/{daemon}"),
            ];
            argv.extend(common(conf, pid));
            self.spawn_daemon(daemon, &sw.join(format!("{daemon}.out")), &argv);
        };
        frr("zebra", "zebra.conf", "zebra.pid");
        self.wait_until("zebra's API socket exists", Duration::from_secs(30), || {
            self.check_daemons();
            sw.join("zserv.api").exists()
        });
        frr("bgpd", "bgpd.conf", "bgpd.pid");
    }

    /// The PID of BIRD on `node`.
    pub fn bird_pid(&self, node: &str) -> u32 {
        let name = format!("bird {node}");
        self.daemons.lock().unwrap().iter().find(|d| d.name == name).map(|d| d.pid).unwrap_or_else(|| {
            panic!("BIRD on {node} is not running");
        })
    }

    /// Every running daemon: (`bird k8s-1` / `zebra` / `bgpd`, PID).
    pub fn daemon_pids(&self) -> Vec<(String, u32)> {
        self.daemons.lock().unwrap().iter().map(|d| (d.name.clone(), d.pid)).collect()
    }

    /// SIGKILL BIRD on `node` and wait until it is gone.
    pub fn kill_bird(&self, node: &str) {
        self.end_bird(node, "KILL");
    }

    /// Send `sig` to BIRD on `node` and wait until it is gone (SIGKILL after 10 s).
    fn end_bird(&self, node: &str, sig: &str) {
        let name = format!("bird {}", NODE_NAMES[node_index(node)]);
        let mut daemons = self.daemons.lock().unwrap();
        let d = daemons.iter_mut().find(|d| d.name == name).unwrap_or_else(|| panic!("BIRD on {node} is not running"));
        d.stop(sig, Duration::from_secs(10)).unwrap();
        daemons.retain(|d| d.name != name);
    }

    /// Stop BIRD on `node` as an operator would (SIGTERM: it closes its sessions; SIGKILL after
    /// 10 s), and wait until nothing listens on TCP 179 in the node's namespace any more, so a
    /// connect to the node's BGP port is refused.
    pub fn stop_bird(&self, node: &str) {
        self.end_bird(node, "TERM");
        self.wait_until(&format!("nothing listens on TCP 179 on {node}"), Duration::from_secs(10), || {
            self.tcp_listeners(node, 179).is_empty()
        });
    }

    /// The programs listening on TCP `port` in `host`'s namespace, as `ss -ltnp` shows them:
    /// (command name, PID), one per socket.
    pub fn tcp_listeners(&self, host: &str, port: u16) -> Vec<(String, u32)> {
        let filter = format!("sport = :{port}");
        let out = run_ok(Command::new("ip").args(["netns", "exec", &self.netns(host), "ss", "-Hltnp", &filter]));
        // `LISTEN 0 5 0.0.0.0:179 0.0.0.0:* users:(("bird",pid=1234,fd=7))`
        out.lines()
            .flat_map(|line| line.split("((").skip(1).flat_map(|users| users.split("),(")))
            .filter_map(|user| {
                let (name, rest) = user.strip_prefix('"')?.split_once('"')?;
                let pid = rest.split(",pid=").nth(1)?.split(',').next()?.parse().ok()?;
                Some((name.to_string(), pid))
            })
            .collect()
    }

    /// Drop every incoming TCP packet to port 179 in `node`'s namespace (an nftables table
    /// `bgplab_block` there), as a host firewall that forgot BGP would: a connect to the node's
    /// BGP port from elsewhere gets no answer at all and times out ("filtered"). Its own BGP
    /// connections out still work; the rule goes away with the namespace.
    pub fn block_bgp(&self, node: &str) {
        node_index(node); // a lab node, or a panic that names them
        self.nft(
            node,
            "table inet bgplab_block {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    \
             tcp dport 179 drop\n  }\n}\n",
        );
    }

    /// Start recording, in `host`'s namespace, where every packet it sends goes (an nftables table
    /// `bgplab_watch` with an output chain that adds each destination address, and the address and
    /// port of each TCP SYN, to dynamic sets). Starting again forgets what was recorded. Read it
    /// with [`Self::outgoing`].
    pub fn record_outgoing(&self, host: &str) {
        self.nft(
            host,
            "table inet bgplab_watch {}\ndelete table inet bgplab_watch\ntable inet bgplab_watch {\n  \
             set dst4 { type ipv4_addr; size 65536; flags dynamic; }\n  \
             set dst6 { type ipv6_addr; size 65536; flags dynamic; }\n  \
             set syn4 { type ipv4_addr . inet_service; size 65536; flags dynamic; }\n  \
             chain output {\n    type filter hook output priority 0; policy accept;\n    \
             meta nfproto ipv4 add @dst4 { ip daddr }\n    \
             meta nfproto ipv6 add @dst6 { ip6 daddr }\n    \
             meta nfproto ipv4 tcp flags & (syn | ack) == syn add @syn4 { ip daddr . tcp dport }\n  }\n}\n",
        );
    }

    /// What `host` sent since [`Self::record_outgoing`]: every destination address (IPv4 and IPv6,
    /// any protocol; loopback included) and every (address, port) it opened a TCP connection to.
    pub fn outgoing(&self, host: &str) -> Outgoing {
        let elements = |set: &str| -> Vec<serde_json::Value> {
            let text = run_ok(Command::new("ip").args([
                "netns",
                "exec",
                &self.netns(host),
                "nft",
                "-j",
                "list",
                "set",
                "inet",
                "bgplab_watch",
                set,
            ]));
            let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("nft -j: {e}: {text}"));
            let sets = json["nftables"].as_array().into_iter().flatten();
            sets.filter_map(|o| o["set"]["elem"].as_array()).flatten().cloned().collect()
        };
        let ip = |v: &serde_json::Value| -> IpAddr {
            v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not an address in an nft set: {v}"))
        };
        let mut destinations: Vec<IpAddr> = elements("dst4").iter().chain(&elements("dst6")).map(ip).collect();
        destinations.sort();
        let mut connects: Vec<(IpAddr, u16)> = elements("syn4")
            .iter()
            .map(|e| {
                let pair = &e["concat"];
                let port = pair[1].as_u64().and_then(|p| u16::try_from(p).ok());
                (ip(&pair[0]), port.unwrap_or_else(|| panic!("not a port in an nft set: {e}")))
            })
            .collect();
        connects.sort();
        Outgoing { destinations, connects }
    }

    /// Start a program that is not BIRD (python3) listening on TCP `port` (all IPv4 addresses)
    /// in `node`'s namespace; it is killed when the returned guard drops (and exits by itself
    /// when the test process dies, as its stdin then closes). Returns once the socket listens.
    pub fn listen_other(&self, node: &str, port: u16) -> OtherListener {
        const SCRIPT: &str = "import socket, sys\n\
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n\
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
            s.bind(('0.0.0.0', int(sys.argv[1])))\n\
            s.listen(16)\n\
            print('listening', flush=True)\n\
            sys.stdin.read()\n";
        let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.netns(NODE_NAMES[node_index(node)]), python, "-c", SCRIPT])
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {python}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        if line.trim() != "listening" {
            let _ = child.kill();
            let out = child.wait_with_output().map(|o| String::from_utf8_lossy(&o.stderr).into_owned());
            panic!("{python} could not listen on TCP {port} on {node}: {}", out.unwrap_or_default());
        }
        let pid = child.id();
        let program = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string();
        OtherListener { child, pid, program }
    }

    /// Make the switch originate `prefix` (`network <prefix>` in its BGP configuration, through
    /// vtysh) to its neighbours, and wait until k8s-1's BIRD (which must run) has the route from
    /// the switch.
    pub fn switch_advertise(&self, prefix: &str) {
        let network = format!("network {prefix}");
        run_ok(
            Command::new("vtysh")
                .arg("--vty_socket")
                .arg(self.run_dir().join("switch"))
                .args(["-c", "configure terminal", "-c", &format!("router bgp {SWITCH_AS}")])
                .args(["-c", "address-family ipv4 unicast", "-c", &network]),
        );
        let from_switch = protocol_name(SWITCH_IP);
        self.wait_until(&format!("k8s-1's BIRD has the switch's route {prefix}"), Duration::from_secs(30), || {
            self.birdc("k8s-1", &format!("show route {prefix}"))
                .lines()
                .any(|l| l.starts_with(prefix) && l.contains(&format!("[{from_switch} ")))
        });
    }

    /// `ping -c 1 -W 1 <ip>` from the client's namespace (only to lab addresses).
    pub fn ping_from_client(&self, ip: &str) -> bool {
        assert!(
            ip.starts_with("172.27.208.") || ip.starts_with(&format!("{LAN_PREFIX}.")),
            "the lab pings only its own addresses, not {ip}"
        );
        Command::new("ip")
            .args(["netns", "exec", &self.netns("client"), "ping", "-n", "-q", "-c", "1", "-W", "1", ip])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The last lines of BIRD's log on `node`.
    pub fn bird_log(&self, node: &str) -> String {
        tail(&self.run_dir().join(node).join("bird.log"), 40)
    }

    /// Every node's `show protocols`, BIRD's and FRR's log tails: for failure messages.
    pub fn diagnostics(&self) -> String {
        let mut s = String::new();
        for node in NODE_NAMES {
            s.push_str(&format!("--- {node}: birdc show protocols\n{}", self.birdc(node, "show protocols")));
            s.push_str(&format!("--- {node}: bird.log (tail)\n{}", self.bird_log(node)));
            s.push_str(&format!(
                "--- {node}: bird stdout/stderr\n{}",
                tail(&self.run_dir().join(node).join("bird.out"), 20)
            ));
        }
        for f in ["bgpd.log", "zebra.log", "bgpd.out", "zebra.out"] {
            s.push_str(&format!("--- switch: {f} (tail)\n{}", tail(&self.run_dir().join("switch").join(f), 30)));
        }
        s
    }

    /// Panic (with the logs) if a daemon that should run has exited.
    fn check_daemons(&self) {
        let mut dead = Vec::new();
        for d in self.daemons.lock().unwrap().iter_mut() {
            if d.exited() {
                dead.push(format!("{} (pid {}) exited: {}\n{}", d.name, d.pid, d.out.display(), tail(&d.out, 30)));
            }
        }
        if !dead.is_empty() {
            panic!("BGP lab {}: daemon died\n{}\n{}", self.prefix, dead.join("\n"), self.diagnostics());
        }
    }

    fn spawn_daemon(&self, name: &str, out: &Path, argv: &[String]) {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(out)
            .args(argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let pid: u32 = line.trim().parse().unwrap_or_else(|_| panic!("{name}: watchdog printed {line:?}"));
        self.daemons.lock().unwrap().push(Daemon {
            name: name.to_string(),
            pid,
            watchdog: child,
            stdin,
            out: out.into(),
        });
    }

    fn start_bird(&self, node: &str) {
        let dir = self.run_dir().join(node);
        let argv: Vec<String> = vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            self.netns(node),
            "bird".into(),
            "-f".into(),
            "-c".into(),
            dir.join("bird.cfg").display().to_string(),
            "-s".into(),
            self.socket(node).display().to_string(),
        ];
        self.spawn_daemon(&format!("bird {node}"), &dir.join("bird.out"), &argv);
    }

    fn write_configs(&self, filler: usize) {
        let run = self.run_dir().to_path_buf();
        for (i, node) in NODE_NAMES.iter().enumerate() {
            let dir = run.join(node);
            std::fs::create_dir(&dir).unwrap();
            set_mode(&dir, 0o755);
            let with_filler = i == 0 && filler > 0;
            write(&dir.join("bird.cfg"), &bird_cfg(&run, i, with_filler));
            write(&dir.join("bird_aggr.cfg"), &bird_aggr_cfg(i));
            write(&dir.join("bird_ipam.cfg"), &bird_ipam_cfg());
            if with_filler {
                write(&dir.join("bird_filler.cfg"), &bird_filler_cfg(filler));
            }
        }
        let sw = run.join("switch");
        for d in ["", "var-tmp", "run", "run/frr"] {
            std::fs::create_dir_all(sw.join(d)).unwrap();
        }
        write(&sw.join("bgpd.conf"), &bgpd_conf(&run));
        write(&sw.join("zebra.conf"), &zebra_conf(&run));
        // FRR refuses to run as root; its daemons write logs, sockets and pid files as `frr`.
        run_ok(Command::new("chown").args(["-R", "frr:frr"]).arg(&sw));
    }

    /// Load an nftables `script` in `host`'s namespace.
    fn nft(&self, host: &str, script: &str) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.netns(host), "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run nft (package nftables)");
        child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "nft on {host} failed: {}\n{script}", String::from_utf8_lossy(&out.stderr));
    }

    fn ip(&self, args: &[&str]) {
        run_ok(Command::new("ip").args(args));
    }

    fn ip_out(&self, args: &[&str]) -> String {
        run_ok(Command::new("ip").args(args))
    }

    fn sysctl(&self, host: &str, settings: &[&str]) {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns(host), "sysctl", "-q", "-w"]).args(settings);
        run_ok(&mut c);
    }

    fn build_network(&mut self) {
        let hosts: Vec<(&str, String)> = std::iter::once(("switch", SWITCH_IP.to_string()))
            .chain(NODE_NAMES.iter().zip(NODE_IPS).map(|(n, ip)| (*n, ip.to_string())))
            .chain(std::iter::once(("client", CLIENT_IP.to_string())))
            .collect();
        for host in std::iter::once("lan").chain(hosts.iter().map(|h| h.0)) {
            let ns = self.netns(host);
            self.ip(&["netns", "add", &ns]);
            self.namespaces.push(ns.clone());
            self.ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        let lan = self.netns("lan");
        self.ip(&["-n", &lan, "link", "add", "br0", "type", "bridge"]);
        self.ip(&["-n", &lan, "link", "set", "br0", "up"]);
        // The switch and the nodes forward (a Kubernetes node does; the switch's ECMP routes
        // reach every block via either reflector, which passes on what is not its own). Nobody
        // sends redirects and the client accepts none, so client->pod traffic always goes
        // through the switch, and stops when the switch does.
        let no_redirects =
            ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0"];
        for host in std::iter::once("switch").chain(NODE_NAMES) {
            self.sysctl(host, &no_redirects);
        }
        self.sysctl("client", &["net.ipv4.conf.all.accept_redirects=0", "net.ipv4.conf.default.accept_redirects=0"]);
        for (host, ip) in &hosts {
            let ns = self.netns(host);
            let port = format!("v-{host}");
            // Created directly inside its two namespaces: nothing touches the root namespace.
            self.ip(&["link", "add", &port, "netns", &lan, "type", "veth", "peer", "name", "eth0", "netns", &ns]);
            self.ip(&["-n", &lan, "link", "set", &port, "master", "br0", "up"]);
            self.ip(&["-n", &ns, "addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
            self.ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        }
        for host in std::iter::once("switch").chain(NODE_NAMES) {
            self.sysctl(host, &["net.ipv4.conf.eth0.send_redirects=0"]);
        }
        self.sysctl("client", &["net.ipv4.conf.eth0.accept_redirects=0"]);
        for (i, node) in NODE_NAMES.iter().enumerate() {
            let ns = self.netns(node);
            // No dummy driver here: the pod IP sits on a veth pair inside the node.
            self.ip(&["-n", &ns, "link", "add", "pod0", "type", "veth", "peer", "name", "cali0pod1"]);
            self.ip(&["-n", &ns, "addr", "add", &format!("{}/32", POD_IPS[i]), "dev", "pod0"]);
            self.ip(&["-n", &ns, "link", "set", "pod0", "up"]);
            self.ip(&["-n", &ns, "link", "set", "cali0pod1", "up"]);
        }
        self.ip(&["-n", &self.netns("client"), "route", "add", POOL, "via", SWITCH_IP]);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let mut daemons = std::mem::take(&mut *self.daemons.lock().unwrap_or_else(|e| e.into_inner()));
        for d in &mut daemons {
            if let Err(e) = d.stop("KILL", Duration::from_secs(10)) {
                eprintln!("BGP lab {}: {e}", self.prefix);
            }
        }
        for ns in self.namespaces.iter().rev() {
            kill_namespace_pids(ns);
            if let Err(e) = run(Command::new("ip").args(["netns", "del", ns])) {
                eprintln!("BGP lab: ip netns del {ns}: {e}");
            }
        }
        if let Some(run) = self.run.take()
            && let Err(e) = run.close()
        {
            eprintln!("BGP lab {}: removing the run dir: {e}", self.prefix);
        }
    }
}

/// Namespaces (by name) whose name starts with `prefix`.
pub fn namespaces_with_prefix(prefix: &str) -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().map(|o| o.stdout).unwrap_or_default();
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// SIGKILL whatever still runs in `ns` (a backstop: the daemons are killed by PID first), and
/// wait until nothing does.
fn kill_namespace_pids(ns: &str) {
    let pids = || -> Vec<String> {
        Command::new("ip")
            .args(["netns", "pids", ns])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let left = pids();
        if left.is_empty() {
            return;
        }
        if Instant::now() >= end {
            eprintln!("BGP lab: processes {left:?} still in {ns}");
            return;
        }
        for pid in &left {
            let _ = Command::new("kill").args(["-s", "KILL", pid]).output();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Remove namespaces and run dirs that labs of test processes that no longer exist left behind
/// (killed outright, so `Drop` never ran; their watchdogs killed the daemons).
fn sweep_stale() {
    let dead = |name: &str| -> bool {
        let Some(rest) = name.strip_prefix("bgplab-") else { return false };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { return false };
        pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
    };
    for ns in namespaces_with_prefix("bgplab-") {
        if dead(&ns) {
            kill_namespace_pids(&ns);
            let _ = run(Command::new("ip").args(["netns", "del", &ns]));
        }
    }
    if let Ok(entries) = std::fs::read_dir("/tmp") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if dead(&name) && e.path().join("k8s-1").is_dir() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn run(c: &mut Command) -> Result<String, String> {
    let o: Output = c.stdin(Stdio::null()).output().map_err(|e| format!("{c:?}: {e}"))?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(format!("{c:?} failed ({}): {}", o.status, String::from_utf8_lossy(&o.stderr).trim()))
    }
}

fn run_ok(c: &mut Command) -> String {
    run(c).unwrap_or_else(|e| panic!("BGP lab: {e}"))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut text);
    } else {
        return format!("({} missing)\n", path.display());
    }
    let all: Vec<&str> = text.lines().collect();
    let mut s = all[all.len().saturating_sub(lines)..].join("\n");
    s.push('\n');
    s
}

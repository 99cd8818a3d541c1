//! BIRD reply parsing at scale: a node with 10,000 BGP protocols (far more than any real Calico
//! node: a route reflector of a 10,000-node cluster), in BIRD 1.6.8's exact layout.
//!
//! `cargo bench --bench bird_parse` measures, for `show protocols` (about 0.7 MB) and `show protocols
//! all` (about 9 MB): the whole reply at once (`parse_reply` + `parse_protocols` + `peer_rows`),
//! and the same fed to the incremental decoder in 64 KiB reads, as the socket client does. The goal
//! is under 10 ms for each. Under `cargo test --all-targets` each runs once, as a smoke check.

use std::fmt::Write as _;
use std::sync::LazyLock;

use calico_bgp_wizard::status::bird::protocols::{parse_protocols, peer_rows};
use calico_bgp_wizard::status::bird::reply::{Decoder, Progress, Reply, parse_reply};
use divan::Bencher;

const PROTOCOLS: usize = 10_000;
const READ: usize = 64 << 10;

fn main() {
    divan::Divan::default().sample_count(50).config_with_args().main();
}

static SHOW: LazyLock<String> = LazyLock::new(|| reply(false));
static SHOW_ALL: LazyLock<String> = LazyLock::new(|| reply(true));

/// One BGP protocol of many kinds: mostly Established mesh peers, some node-specific with a
/// port, some IPv6, some down or connecting.
fn peer(i: usize) -> (String, String, &'static str, String) {
    let (a, b) = (i / 250, i % 250 + 1);
    let (name, addr) = match i % 10 {
        7 => (format!("Node_10_1_{a}_{b}_port_1790"), format!("10.1.{a}.{b}")),
        8 => (format!("Mesh_fd80_24e2_f998_{a:x}__{b:x}"), format!("fd80:24e2:f998:{a:x}::{b:x}")),
        _ => (format!("Mesh_10_0_{a}_{b}"), format!("10.0.{a}.{b}")),
    };
    let (state, info) = match i % 50 {
        3 => ("start", "Active        Socket: Connection refused".to_string()),
        4 => ("start", "Connect       ".to_string()),
        5 => ("down", String::new()),
        _ => ("up", "Established   ".to_string()),
    };
    (name, addr, state, info)
}

fn reply(all: bool) -> String {
    let mut s = String::from("2002-name     proto    table    state  since       info\n");
    // A row after detail lines starts a new `1002-` code; a row after a row is a continuation.
    let row = |s: &mut String, text: &str| {
        s.push_str(if s.ends_with("info\n") || s.ends_with("\n \n") { "1002-" } else { " " });
        s.push_str(text);
        s.push('\n');
    };
    for sys in ["static1  Static ", "kernel1  Kernel ", "device1  Device ", "direct1  Direct "] {
        row(&mut s, &format!("{sys}  master   up     14:19:22    "));
        if all {
            s.push_str("1006-  Preference:     200\n   Input filter:   ACCEPT\n   Output filter:  REJECT\n \n");
        }
    }
    for i in 0..PROTOCOLS {
        let (name, addr, state, info) = peer(i);
        row(&mut s, &format!("{name:<8} BGP      master   {state:<5}  14:19:24    {info}"));
        if all {
            let _ = write!(
                s,
                "1006-  Description:    Connection to BGP peer\n   Preference:     100\n   Input filter:   ACCEPT\n   \
                 Output filter:  calico_export_to_bgp_peers\n   Routes:         2 imported, 2 exported, 1 preferred\n   \
                 Route change stats:     received   rejected   filtered    ignored   accepted\n     \
                 Import updates:              2          0          0          0          2\n     \
                 Import withdraws:            0          0        ---          0          0\n     \
                 Export updates:              6          2          2        ---          2\n     \
                 Export withdraws:            0        ---        ---        ---          0\n   \
                 BGP state:          Established\n     Neighbor address: {addr}\n     Neighbor AS:      64512\n     \
                 Neighbor ID:      {addr}\n     \
                 Neighbor caps:    refresh enhanced-refresh restart-able llgr-aware AS4 add-path-rx add-path-tx\n     \
                 Session:          internal multihop AS4 add-path-rx add-path-tx\n     \
                 Source address:   172.31.13.27\n     Hold timer:       179/240\n     Keepalive timer:  72/80\n \n"
            );
        }
    }
    s.push_str("0000 \n");
    s
}

/// Framing, table and peer rows of a whole reply; the number of peer rows.
fn whole(input: &str) -> usize {
    let reply = parse_reply(input).expect("a valid reply");
    peer_rows("k8s-1", &parse_protocols(reply).expect("a protocol table")).len()
}

/// The same, fed to the decoder in 64 KiB reads.
fn in_reads(input: &str) -> usize {
    let mut decoder = Decoder::new();
    let mut reply: Option<Reply> = None;
    for chunk in input.as_bytes().chunks(READ) {
        if let Progress::Done { reply: r, .. } = decoder.feed(chunk).expect("a valid reply") {
            reply = Some(r);
        }
    }
    let reply = reply.expect("a complete reply");
    peer_rows("k8s-1", &parse_protocols(reply).expect("a protocol table")).len()
}

#[divan::bench]
fn show_protocols_10k(b: Bencher) {
    let input = &*SHOW;
    assert_eq!(whole(input), PROTOCOLS);
    b.counter(divan::counter::BytesCount::new(input.len())).bench(|| whole(divan::black_box(input)));
}

#[divan::bench]
fn show_protocols_10k_in_64k_reads(b: Bencher) {
    let input = &*SHOW;
    assert_eq!(in_reads(input), PROTOCOLS);
    b.counter(divan::counter::BytesCount::new(input.len())).bench(|| in_reads(divan::black_box(input)));
}

#[divan::bench]
fn show_protocols_all_10k(b: Bencher) {
    let input = &*SHOW_ALL;
    assert_eq!(whole(input), PROTOCOLS);
    b.counter(divan::counter::BytesCount::new(input.len())).bench(|| whole(divan::black_box(input)));
}

#[divan::bench]
fn show_protocols_all_10k_in_64k_reads(b: Bencher) {
    let input = &*SHOW_ALL;
    assert_eq!(in_reads(input), PROTOCOLS);
    b.counter(divan::counter::BytesCount::new(input.len())).bench(|| in_reads(divan::black_box(input)));
}

/// The three steps apart, on `show protocols`.
mod steps {
    use super::*;

    #[divan::bench]
    fn framing(b: Bencher) {
        let input = &*SHOW;
        b.bench(|| parse_reply(divan::black_box(input)).expect("a valid reply").len());
    }

    #[divan::bench]
    fn table(b: Bencher) {
        let reply = parse_reply(&SHOW).expect("a valid reply");
        b.with_inputs(|| reply.clone()).bench_values(|r| parse_protocols(r).expect("a protocol table").len());
    }

    #[divan::bench]
    fn rows(b: Bencher) {
        let protocols = parse_protocols(parse_reply(&SHOW).expect("a valid reply")).expect("a protocol table");
        b.bench(|| peer_rows("k8s-1", divan::black_box(&protocols)).len());
    }
}

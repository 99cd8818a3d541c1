//! `show protocols` and `show protocols all` tables (pure), and the peer rows they give.
//!
//! A table is a `2002` header, one `1002` row per protocol and, with `all`, `1006` detail lines
//! after each row; it ends with `0000 `. BIRD 1.x writes the header `name proto table state since
//! info`, BIRD 2.x `Name Proto Table State Since Info`. Rows are split on whitespace (names longer
//! than the column overflow it); the info column is kept as BIRD wrote it.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::reply::{Reply, ReplyError, parse_reply};
use crate::status::model::{BgpState, PeerRow, PeerType};

const HEADER_BIRD1: [&str; 6] = ["name", "proto", "table", "state", "since", "info"];
const HEADER_BIRD2: [&str; 6] = ["Name", "Proto", "Table", "State", "Since", "Info"];

/// A protocol table: BIRD's reply and where each protocol's lines are. Rows are read from the
/// reply's text when iterated (no copies), so parsing a 10,000-row table stays cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocols {
    reply: Reply,
    /// Per protocol: the index of its row line, and of its detail lines.
    rows: Vec<(usize, Range<usize>)>,
}

impl Protocols {
    /// The protocols in BIRD's order.
    pub fn iter(&self) -> impl Iterator<Item = Protocol<'_>> + '_ {
        self.rows.iter().filter_map(|(row, details)| {
            let mut p = parse_row(self.reply.line(*row)?.text)?;
            for line in details.clone().filter_map(|i| self.reply.line(i)) {
                add_detail(&mut p.details, line.text);
            }
            Some(p)
        })
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// BIRD's reply, as read.
    pub fn reply(&self) -> &Reply {
        &self.reply
    }
}

/// One row of the protocol table, with its details when the command was `show protocols all`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Protocol<'a> {
    pub name: &'a str,
    /// `BGP`, `Kernel`, `Static`, …
    pub proto: &'a str,
    pub table: &'a str,
    /// Protocol state: `up`, `start`, `down`, …
    pub state: &'a str,
    /// `HH:MM:SS` (BIRD 2: `HH:MM:SS.mmm`) within 20 h, else a date.
    pub since: &'a str,
    /// The info column exactly as sent (BGP: state padded to 14, then the last error; may be empty).
    pub info: &'a str,
    pub details: Details<'a>,
}

/// What `show protocols all` adds for a protocol (all `None` after plain `show protocols`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Details<'a> {
    pub description: Option<&'a str>,
    /// `BGP state:`, e.g. `Established`, `Active`, `Down`.
    pub bgp_state: Option<&'a str>,
    pub neighbor_address: Option<&'a str>,
    pub neighbor_as: Option<&'a str>,
    pub neighbor_id: Option<&'a str>,
    /// e.g. `internal multihop route-reflector AS4 add-path-rx add-path-tx`.
    pub session: Option<&'a str>,
    pub source_address: Option<&'a str>,
    pub last_error: Option<&'a str>,
    /// The line `Neighbor graceful restart active` was there.
    pub graceful_restart_active: bool,
}

/// Why a reply is not a protocol table this program can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolsError {
    #[error(transparent)]
    Reply(#[from] ReplyError),
    #[error(
        "BIRD's reply is not a protocol table: it starts with {quoted} (code {code:04}) instead of the header line (2002)"
    )]
    NotATable { code: u16, quoted: String },
    #[error(
        "BIRD's protocol table has the header {quoted}; this program reads BIRD 1.x \
         (\"name proto table state since info\") and BIRD 2.x (\"Name Proto Table State Since Info\")"
    )]
    UnknownHeader { quoted: String },
    #[error(
        "line {line_no} of BIRD's protocol table has fewer than 5 columns (name proto table state since): {quoted}"
    )]
    ShortRow { line_no: usize, quoted: String },
    #[error("line {line_no} of BIRD's protocol table is a detail line (1006) before any protocol row: {quoted}")]
    DetailBeforeRow { line_no: usize, quoted: String },
    #[error("line {line_no} of BIRD's protocol table has the unexpected code {code:04}: {quoted}")]
    UnexpectedLine { line_no: usize, code: u16, quoted: String },
}

/// Reads a `show protocols` or `show protocols all` reply.
pub fn parse_protocols(reply: Reply) -> Result<Protocols, ProtocolsError> {
    if let Some(e) = reply.error() {
        return Err(e.into());
    }
    let rows = table_rows(&reply)?;
    Ok(Protocols { reply, rows })
}

/// [`parse_reply`] then [`parse_protocols`], for text such as a capture.
pub fn parse_protocols_str(input: &str) -> Result<Protocols, ProtocolsError> {
    parse_protocols(parse_reply(input)?)
}

fn table_rows(reply: &Reply) -> Result<Vec<(usize, Range<usize>)>, ProtocolsError> {
    let mut lines = reply.lines().enumerate();
    let Some((_, first)) = lines.next() else { return Ok(Vec::new()) };
    if first.code == 0 && lines.len() == 0 {
        // Only `0000 `: a BIRD with no protocols at all.
        return Ok(Vec::new());
    }
    if first.code != 2002 {
        return Err(ProtocolsError::NotATable { code: first.code, quoted: quote(first.text) });
    }
    let mut words = first.text.split_ascii_whitespace();
    let header: [Option<&str>; 7] = std::array::from_fn(|_| words.next());
    let known = |h: &[&str; 6]| header[..6].iter().zip(h).all(|(a, b)| *a == Some(*b)) && header[6].is_none();
    if !known(&HEADER_BIRD1) && !known(&HEADER_BIRD2) {
        return Err(ProtocolsError::UnknownHeader { quoted: quote(first.text) });
    }
    let last_no = reply.final_line().line_no;
    let mut rows: Vec<(usize, Range<usize>)> = Vec::new();
    for (i, line) in lines {
        match line.code {
            1002 if is_blank(line.text) => {}
            1002 => {
                if parse_row(line.text).is_none() {
                    return Err(ProtocolsError::ShortRow { line_no: line.line_no, quoted: quote(line.text) });
                }
                rows.push((i, i + 1..i + 1));
            }
            1006 => match rows.last_mut() {
                Some((_, details)) => details.end = i + 1,
                None if is_blank(line.text) => {}
                None => {
                    return Err(ProtocolsError::DetailBeforeRow { line_no: line.line_no, quoted: quote(line.text) });
                }
            },
            0..=999 if line.line_no == last_no => {}
            code => {
                return Err(ProtocolsError::UnexpectedLine { line_no: line.line_no, code, quoted: quote(line.text) });
            }
        }
    }
    Ok(rows)
}

fn is_blank(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_whitespace())
}

/// The next word of `text` from byte `i` on (ASCII whitespace between words): its range.
fn next_word(text: &[u8], mut i: usize) -> Option<Range<usize>> {
    let n = text.len();
    while i < n && text[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < n && !text[i].is_ascii_whitespace() {
        i += 1;
    }
    (i > start).then_some(start..i)
}

/// `name proto table state since info…`; None if fewer than 5 columns. Only ASCII whitespace
/// splits, so every cut is at a char boundary.
fn parse_row(text: &str) -> Option<Protocol<'_>> {
    let b = text.as_bytes();
    let name = next_word(b, 0)?;
    let proto = next_word(b, name.end)?;
    let table = next_word(b, proto.end)?;
    let state = next_word(b, table.end)?;
    let since = next_word(b, state.end)?;
    let mut since_end = since.end;
    let mut info = next_word(b, since_end);
    // `timeformat protocol iso long` ("%F %T") makes the since column two words.
    if let Some(time) = &info
        && b.get(time.clone()).is_some_and(is_time)
        && b.get(since.clone()).is_some_and(is_date)
    {
        since_end = time.end;
        info = next_word(b, since_end);
    }
    let info_start = info.map_or(b.len(), |w| w.start);
    Some(Protocol {
        name: text.get(name)?,
        proto: text.get(proto)?,
        table: text.get(table)?,
        state: text.get(state)?,
        since: text.get(since.start..since_end)?,
        info: text.get(info_start..)?,
        details: Details::default(),
    })
}

/// `YYYY-MM-DD`.
fn is_date(b: &[u8]) -> bool {
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// `HH:MM:SS` or `HH:MM:SS.fff`.
fn is_time(b: &[u8]) -> bool {
    let hms = |b: &[u8]| {
        b.len() == 8 && b.iter().enumerate().all(|(i, c)| if i % 3 == 2 { *c == b':' } else { c.is_ascii_digit() })
    };
    match b.split_at_checked(8) {
        Some((t, [])) => hms(t),
        Some((t, [b'.', frac @ ..])) => hms(t) && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// One `1006` line: `  Key:   value` (only the keys the peer table can use are kept; the first
/// of each wins). Sorted by first letter: most detail lines are counters and filters.
fn add_detail<'a>(d: &mut Details<'a>, text: &'a str) {
    let t = text.trim_ascii_start();
    match t.as_bytes().first() {
        Some(b'B') => take(t, "BGP state:", &mut d.bgp_state),
        Some(b'D') => take(t, "Description:", &mut d.description),
        Some(b'L') => take(t, "Last error:", &mut d.last_error),
        Some(b'N') => {
            if t.trim_ascii_end() == "Neighbor graceful restart active" {
                d.graceful_restart_active = true;
            }
            take(t, "Neighbor address:", &mut d.neighbor_address);
            take(t, "Neighbor AS:", &mut d.neighbor_as);
            take(t, "Neighbor ID:", &mut d.neighbor_id);
        }
        Some(b'S') => {
            take(t, "Session:", &mut d.session);
            take(t, "Source address:", &mut d.source_address);
        }
        _ => {}
    }
}

fn take<'a>(line: &'a str, key: &str, slot: &mut Option<&'a str>) {
    if slot.is_none()
        && let Some(value) = line.strip_prefix(key)
    {
        *slot = Some(value.trim_ascii());
    }
}

/// The BGP sessions of one node's BIRD, in BIRD's order, as calicoctl node status lists them:
/// `BGP` protocols named `Global_…`, `Node_…` or `Mesh_…` (others, e.g. `Local_Workload_…`, are left
/// out). Unlike calicoctl, down peers with an empty info column are kept.
pub fn peer_rows(node: &str, protocols: &Protocols) -> Vec<PeerRow> {
    protocols.iter().filter(|p| p.proto == "BGP").filter_map(|p| peer_row(node, &p)).collect()
}

fn peer_row(node: &str, p: &Protocol) -> Option<PeerRow> {
    let (peer_type, rest) = peer_type_of(p.name)?;
    let peer_address = match p.details.neighbor_address {
        Some(a) if !a.is_empty() => a.to_string(),
        _ => peer_address_from_name(rest),
    };
    let (bgp_state, info) = split_info(p.state, p.info);
    Some(PeerRow {
        node: node.to_string(),
        peer_address,
        peer_type,
        state: p.state.to_string(),
        since: p.since.to_string(),
        bgp_state,
        info: info.to_string(),
    })
}

/// The peer type and the rest of a `Global_…`/`Node_…`/`Mesh_…` name (calicoctl's
/// `^(Global|Node|Mesh)_(.+)$`).
pub fn peer_type_of(name: &str) -> Option<(PeerType, &str)> {
    let (kind, rest) = name.split_once('_')?;
    let t = match kind {
        "Global" => PeerType::Global,
        "Node" => PeerType::NodeSpecific,
        "Mesh" => PeerType::NodeToNodeMesh,
        _ => return None,
    };
    (!rest.is_empty()).then_some((t, rest))
}

/// The peer IP encoded in a protocol name's rest: `172_31_13_28` → `172.31.13.28`,
/// `fd80_24e2_f998_72d7__2` → `fd80:24e2:f998:72d7::2`, a `_port_<N>` suffix dropped. Anything
/// else is returned as it is.
pub fn peer_address_from_name(rest: &str) -> String {
    let ip = match rest.rsplit_once('_') {
        Some((head, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            head.strip_suffix("_port").unwrap_or(rest)
        }
        _ => rest,
    };
    let v4 = ip.replace('_', ".");
    if v4.parse::<Ipv4Addr>().is_ok() {
        // The parser takes only plain dotted decimal (no leading zeros): already canonical.
        return v4;
    }
    if let Ok(v6) = ip.replace('_', ":").parse::<Ipv6Addr>() {
        return v6.to_string();
    }
    rest.to_string()
}

/// The BGP state and the text after it. A down protocol's info is only the error text (maybe
/// empty); so is an info column that does not start with a BGP state: both give [`BgpState::Down`]
/// with the whole column, so that [`PeerRow::info_column`] still shows what BIRD wrote.
fn split_info<'a>(state: &str, info: &'a str) -> (BgpState, &'a str) {
    let info = info.trim_ascii();
    if state == "down" {
        return (BgpState::Down, info);
    }
    let (word, rest) = info.split_once(|c: char| c.is_ascii_whitespace()).unwrap_or((info, ""));
    match BgpState::parse(word) {
        // Down shows only `info`: keep the word in it.
        Some(BgpState::Down) | None => (BgpState::Down, info),
        Some(s) => (s, rest.trim_ascii()),
    }
}

fn quote(text: &str) -> String {
    let cut: String = text.chars().take(80).collect();
    if cut.len() < text.len() { format!("{cut:?} (cut)") } else { format!("{cut:?}") }
}

//! Arbitrary bytes through BIRD's reply decoder (whole and in chunks), the protocol-table parser
//! and the peer rows: nothing may panic, and chunked decoding must agree with whole decoding.
//!
//! Seed corpus from the captures (the folder is gitignored):
//! `mkdir -p tests/fuzz/corpus/bird_reply && cp ../shared/bird/captures/*.sock.*[!r].txt tests/fuzz/corpus/bird_reply/`
//! (every raw `.sock.` capture; the `.repr.txt` twins are left out).
#![no_main]

use calico_bgp_wizard::status::bird::protocols::{parse_protocols, peer_rows};
use calico_bgp_wizard::status::bird::reply::{Decoder, Progress, Reply, ReplyError, parse_reply_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small caps so that the size errors are reached too.
    let whole = decode_all(data, data.len().max(1));
    let step = 1 + data.first().map_or(0, |b| usize::from(*b) % 7);
    let chunked = decode_all(data, step);
    assert_eq!(whole, chunked, "chunks of {step} bytes decode differently");
    if let Some(first) = whole.0.first() {
        assert_texts(data, first);
    }
    for reply in whole.0.iter() {
        use_reply(reply);
    }
    if let Ok(reply) = parse_reply_bytes(data) {
        use_reply(&reply);
    }
});

/// Every reply in `data`, fed `step` bytes at a time, then the error (or truncation) that stopped it.
fn decode_all(data: &[u8], step: usize) -> (Vec<Reply>, Option<ReplyError>) {
    let mut decoder = Decoder::with_limits(4096, 512);
    let mut replies = Vec::new();
    for chunk in data.chunks(step) {
        let mut input = chunk;
        loop {
            match decoder.feed(input) {
                Err(e) => return (replies, Some(e)),
                Ok(Progress::NeedMore) => break,
                Ok(Progress::Done { reply, used }) => {
                    replies.push(reply);
                    input = &input[used..];
                    if input.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    let end = decoder.in_progress().then(|| decoder.truncated());
    (replies, end)
}

/// Each line's text is its raw bytes, prefix removed, as lossy UTF-8 of that line alone.
fn assert_texts(data: &[u8], reply: &Reply) {
    let raw = data.split(|b| *b == b'\n').filter(|l| l.first() != Some(&b'+'));
    for (line, raw) in reply.lines().zip(raw) {
        let body = if raw.first() == Some(&b' ') { &raw[1..] } else { &raw[5..] };
        assert_eq!(line.text, String::from_utf8_lossy(body), "line {}", line.line_no);
    }
}

fn use_reply(reply: &Reply) {
    for line in reply.lines() {
        assert!(line.line_no >= 1);
    }
    let _ = reply.error().map(|e| e.to_string());
    match parse_protocols(reply.clone()) {
        Ok(protocols) => {
            for row in peer_rows("fuzz", &protocols) {
                let _ = row.info_column();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

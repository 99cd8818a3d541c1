//! The reply framing, on the captures and on hand-made bad input.

use super::{capture, capture_str, sock_captures};
use crate::status::bird::reply::*;

fn codes(r: &Reply) -> Vec<u16> {
    r.lines().map(|l| l.code).collect()
}

/// Feeds `input` in the given pieces; every reply completed, then how the input ended.
fn feed_pieces(pieces: &[&[u8]]) -> (Vec<Reply>, Option<ReplyError>) {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for piece in pieces {
        let mut input = *piece;
        while !input.is_empty() {
            match d.feed(input) {
                Err(e) => return (out, Some(e)),
                Ok(Progress::NeedMore) => break,
                Ok(Progress::Done { reply, used }) => {
                    out.push(reply);
                    input = &input[used..];
                }
            }
        }
    }
    let end = d.in_progress().then(|| d.truncated());
    (out, end)
}

#[test]
fn greeting_is_a_reply_of_its_own() {
    let r = parse_reply_bytes(&capture("established.k8s-1.sock.greeting.txt")).unwrap();
    assert_eq!(r.code(), 1);
    assert_eq!(r.len(), 1);
    assert_eq!(r.final_line(), ReplyLine { code: 1, line_no: 1, text: "BIRD 1.6.8 ready." });
}

#[test]
fn show_protocols_lines_codes_and_texts() {
    let r = parse_reply(&capture_str("established.k8s-1.sock.show_protocols.txt")).unwrap();
    assert_eq!(codes(&r), [2002, 1002, 1002, 1002, 1002, 1002, 1002, 1002, 0]);
    let lines: Vec<_> = r.lines().collect();
    assert_eq!(lines[0].text, "name     proto    table    state  since       info");
    assert_eq!(lines[1].text, "static1  Static   master   up     14:19:22    ");
    // A continuation loses exactly one space.
    assert_eq!(lines[6].text, "Node_172_31_13_29 BGP      master   up     14:19:24    Established   ");
    assert_eq!(lines[8], ReplyLine { code: 0, line_no: 9, text: "" });
    assert_eq!(r.final_line(), lines[8]);
    assert!(r.error().is_none());
}

#[test]
fn show_status_and_show_route_frame_like_birdc_prints_them() {
    let r = parse_reply(&capture_str("established.k8s-1.sock.show_status.txt")).unwrap();
    assert_eq!(codes(&r), [1000, 1011, 1011, 1011, 1011, 13]);
    assert_eq!(r.final_line().text, "Daemon is up and running");
    // birdc prints each text as is; the socket framing must give back exactly that.
    let birdc = capture_str("established.k8s-1.birdc.show_status.txt");
    let ours: Vec<&str> = r.lines().map(|l| l.text).collect();
    // The two captures were taken a second apart: skip the server time line.
    let theirs: Vec<&str> = birdc.lines().skip(1).collect();
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        if !a.starts_with("Current server time") {
            assert_eq!(a, b);
        }
    }
    let r = parse_reply(&capture_str("established.k8s-1.sock.show_route.txt")).unwrap();
    assert_eq!(r.lines().filter(|l| l.code == 1007).count(), 6);
    let via = r.lines().nth(3).unwrap().text;
    assert!(via.starts_with("                   via 172.31.13.29"), "{via:?}");
}

#[test]
fn bird_errors_are_errors_with_their_code_and_text() {
    let e = parse_reply_bytes(&capture("established.k8s-1.sock.unknown_command.txt")).unwrap_err();
    assert_eq!(e, ReplyError::Bird { code: 9001, message: "syntax error".into() });
    assert_eq!(e.to_string(), "BIRD answered \"syntax error\" (9001): BIRD did not understand the command");
    // The lab's "nosuch" capture names a protocol that does not exist: 9002, not 8003.
    let e = parse_reply_bytes(&capture("established.k8s-1.sock.show_protocols_nosuch.txt")).unwrap_err();
    assert_eq!(e, ReplyError::Bird { code: 9002, message: "Node_10_9_9_9 is not a protocol".into() });
    let e = parse_reply("8003 No protocols match\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "BIRD answered \"No protocols match\" (8003): no protocol has that name or matches that pattern"
    );
    // The decoder itself hands the reply over; check() and error() say it is an error.
    let mut d = Decoder::new();
    let Ok(Progress::Done { reply, used: 24 }) = d.feed(b"8003 No protocols match\n") else { panic!() };
    assert_eq!(reply.error(), Some(ReplyError::Bird { code: 8003, message: "No protocols match".into() }));
    assert!(reply.check().is_err());
}

#[test]
fn every_prefix_of_every_capture_is_complete_or_truncated() {
    for name in sock_captures() {
        let bytes = capture(&name);
        for cut in 0..bytes.len() {
            match parse_reply_bytes(&bytes[..cut]) {
                Err(ReplyError::Truncated { lines }) => {
                    assert_eq!(lines, bytes[..cut].iter().filter(|b| **b == b'\n').count(), "{name} cut at {cut}")
                }
                other => panic!("{name} cut at {cut} bytes: expected Truncated, got {other:?}"),
            }
        }
        match parse_reply_bytes(&bytes) {
            Ok(_) | Err(ReplyError::Bird { .. }) => {}
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn any_split_into_reads_decodes_the_same() {
    for name in sock_captures() {
        let bytes = capture(&name);
        let whole = feed_pieces(&[&bytes]);
        assert_eq!(whole.0.len(), 1, "{name}");
        assert_eq!(whole.1, None, "{name}");
        for cut in 0..=bytes.len() {
            assert_eq!(feed_pieces(&[&bytes[..cut], &bytes[cut..]]), whole, "{name} split at {cut}");
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(feed_pieces(&bytewise), whole, "{name} byte by byte");
    }
}

#[test]
fn greeting_and_reply_in_one_read_are_two_replies() {
    let mut input = capture("established.k8s-1.sock.greeting.txt");
    input.extend(capture("established.k8s-1.sock.show_protocols.txt"));
    let mut d = Decoder::new();
    let Ok(Progress::Done { reply, used }) = d.feed(&input) else { panic!("greeting not complete") };
    assert_eq!((reply.code(), used), (1, 23));
    assert!(!d.in_progress());
    let Ok(Progress::Done { reply, used }) = d.feed(&input[23..]) else { panic!("table not complete") };
    assert_eq!((reply.len(), used), (9, input.len() - 23));
    assert_eq!(reply.lines().next().unwrap().line_no, 1, "line numbers restart with each reply");
}

#[test]
fn async_printouts_are_skipped_but_counted() {
    let r = parse_reply("2002-name proto table state since info\n+1234 something happened\n1002-x BGP m up 1\n0000 \n")
        .unwrap();
    assert_eq!(codes(&r), [2002, 1002, 0]);
    assert_eq!(r.lines().nth(1).unwrap().line_no, 3);
}

#[test]
fn malformed_lines_are_quoted_with_their_number() {
    let cases: &[(&str, usize, &str)] = &[
        ("hello\n", 1, "\"hello\""),
        (" no code yet\n", 1, "\" no code yet\""),
        ("1002-a\n\n0000 \n", 2, "\"\""),
        ("1002-a\n12a4-x\n", 2, "\"12a4-x\""),
        ("1002-a\n1002x\n", 2, "\"1002x\""),
        ("0000\n", 1, "\"0000\""),
    ];
    for (input, line_no, quoted) in cases {
        match parse_reply(input) {
            Err(ReplyError::Malformed { line_no: n, quoted: q, .. }) => {
                assert_eq!((n, q.as_str()), (*line_no, *quoted), "{input:?}")
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }
    // A \r is text like any other: " 0000 " is then a continuation, and the reply never ends.
    assert_eq!(parse_reply("1002-a\r\n 0000 \n"), Err(ReplyError::Truncated { lines: 2 }));
    let e = parse_reply("garbage\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1 of BIRD's reply is not in BIRD's reply format (expected a 4-digit code then '-' or ' ', or a \
         leading space): \"garbage\""
    );
    let e = parse_reply("0000 \n0001 BIRD ready.\n").unwrap_err();
    assert!(e.to_string().contains("line 2") && e.to_string().contains("after the reply's last line"), "{e}");
}

#[test]
fn long_and_odd_lines_are_cut_at_a_char_boundary() {
    let long = format!("{}\n", "é".repeat(200));
    let Err(ReplyError::Malformed { quoted, .. }) = parse_reply(&long) else { panic!() };
    assert_eq!(quoted, format!("\"{}\" (cut)", "é".repeat(80)));
    // Invalid UTF-8 is replaced, in quotes and in texts.
    let Err(ReplyError::Malformed { quoted, .. }) = parse_reply_bytes(b"\xff\xfe\n") else { panic!() };
    assert_eq!(quoted, "\"\u{fffd}\u{fffd}\"");
    let r = parse_reply_bytes(b"1002-caf\xc3\n \xe9 ok\n0000 \n").unwrap();
    let texts: Vec<&str> = r.lines().map(|l| l.text).collect();
    assert_eq!(texts, ["caf\u{fffd}", "\u{fffd} ok", ""]);
    // Each line is valid UTF-8 or not on its own, even when two halves would make a char together.
    let r = parse_reply_bytes(b"1002-\xc3\n \xa9\n0000 \n").unwrap();
    let texts: Vec<&str> = r.lines().map(|l| l.text).collect();
    assert_eq!(texts, ["\u{fffd}", "\u{fffd}", ""]);
}

#[test]
fn size_caps() {
    let mut d = Decoder::with_limits(100, 20);
    assert_eq!(d.feed(b"1002-0123456789012345"), Err(ReplyError::LineTooLong { line_no: 1, limit: 20 }));
    let mut d = Decoder::with_limits(25, 20);
    assert_eq!(d.feed(b"1002-0123456789\n 0123456789\n"), Err(ReplyError::TooLong { limit: 25 }));
    assert_eq!(
        ReplyError::TooLong { limit: 25 }.to_string(),
        "BIRD's reply is longer than 25 bytes; this program stops reading there"
    );
    // The default line cap: 64 KiB.
    let e = parse_reply(&format!("1002-{}\n0000 \n", "x".repeat(70_000))).unwrap_err();
    assert_eq!(e, ReplyError::LineTooLong { line_no: 1, limit: MAX_LINE_BYTES });
    assert_eq!(e.to_string(), "line 1 of BIRD's reply is longer than 65536 bytes; this program stops reading there");
    assert_eq!(
        ReplyError::TooLong { limit: MAX_REPLY_BYTES }.to_string(),
        "BIRD's reply is longer than 64 MiB; this program stops reading there"
    );
    assert_eq!(
        ReplyError::Truncated { lines: 3 }.to_string(),
        "BIRD's reply stopped before its last line (after 3 complete lines)"
    );
}

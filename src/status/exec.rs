//! The `--exec` source's pure half: the command run in each calico-node pod, and turning what
//! `birdcl -v` prints back into BIRD's reply framing, so the same parser reads it.
//!
//! `birdcl -v` prints the reply codes, but not exactly as the socket sends them: a continuation
//! line (` text` on the socket) gets four more spaces (`     text`), and lines with no text (the
//! final `0000 `) are left out. Checked against BIRD 1.6.8's `birdc -v` in the lab
//! (tests/bird_lab.rs).

use super::model::PeerRow;

/// The command run in the calico-node container (its BIRD client, on the default socket).
pub const BIRDCL: [&str; 6] = ["birdcl", "-v", "-s", "/var/run/calico/bird.ctl", "show", "protocols all"];

/// `birdcl -v` output → the bytes the socket would have sent for the command's reply (the
/// `0001 … ready.` greeting, a reply of its own, is left out).
pub fn verbose_to_reply(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut complete = false;
    for line in text.lines().skip_while(|l| l.starts_with("0001 ")) {
        let b = line.as_bytes();
        let coded = b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && (b[4] == b'-' || b[4] == b' ');
        complete = coded && b[4] == b' ';
        // A continuation line: birdcl's four extra spaces go, the protocol's one stays.
        out.push_str(if coded { line } else { line.strip_prefix("    ").unwrap_or(line) });
        out.push('\n');
    }
    if !complete {
        out.push_str("0000 \n");
    }
    out
}

/// The peer rows in what `birdcl -v … show protocols all` printed on `node`.
pub fn peer_rows(node: &str, verbose_output: &str) -> Result<Vec<PeerRow>, String> {
    let protocols =
        super::bird::protocols::parse_protocols_str(&verbose_to_reply(verbose_output)).map_err(|e| e.to_string())?;
    Ok(super::bird::protocols::peer_rows(node, &protocols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_output_becomes_socket_framing() {
        // What BIRD 1.6.8's `birdc -v show protocols` printed in a throwaway namespace.
        let v = "0001 BIRD 1.6.8 ready.\n2002-name     proto    table    state  since       info\n\
                 1002-device1  Device   master   up     18:54:37    \n     Node_10_0_0_2 BGP      master   start  18:54:37    Active        \n";
        assert_eq!(
            verbose_to_reply(v),
            "2002-name     proto    table    state  since       info\n\
             1002-device1  Device   master   up     18:54:37    \n Node_10_0_0_2 BGP      master   start  18:54:37    Active        \n0000 \n"
        );
        assert_eq!(verbose_to_reply("8003 No protocols match\n"), "8003 No protocols match\n");
    }
}

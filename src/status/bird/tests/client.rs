//! The socket client against test doubles of BIRD: UNIX sockets in a temp folder that replay
//! captured BIRD bytes (or misbehave). The real BIRD is tested in the lab (tests/bird_lab.rs).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::task::JoinHandle;

use super::capture;
use crate::status::bird::client::*;
use crate::status::bird::reply::{ReplyError, parse_reply_bytes};
use crate::status::model::BgpState;

const SHORT: Duration = Duration::from_millis(200);

/// What the replay of captured BIRD bytes does once a client connects.
#[derive(Clone)]
enum Act {
    /// Greet, read one command line, answer with these bytes in 100-byte writes, then wait for EOF.
    Answer(Vec<u8>),
    /// Greet, read the command, send these bytes and close.
    AnswerThenClose(Vec<u8>),
    /// Send greeting and answer in one write before the command is read.
    AnswerEarly(Vec<u8>),
    /// Send these bytes instead of a greeting, then wait.
    Greet(Vec<u8>),
    /// Accept and say nothing.
    Silent,
    /// Greet, read the command, say nothing.
    SilentAfterGreeting,
}

/// A replay of captured BIRD bytes at `<dir>/<name>`; the task returns the command line it read.
fn replay(dir: &Path, name: &str, act: Act) -> (PathBuf, JoinHandle<String>) {
    let path = dir.join(name);
    let listener = UnixListener::bind(&path).expect("bind the replay socket");
    let greeting = capture("established.k8s-1.sock.greeting.txt");
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut command = String::new();
        match act {
            Act::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
            Act::Greet(bytes) => {
                write.write_all(&bytes).await.unwrap();
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            Act::AnswerEarly(answer) => {
                write.write_all(&[greeting, answer].concat()).await.unwrap();
                read.read_line(&mut command).await.unwrap();
                let _ = read.read_line(&mut String::new()).await;
            }
            Act::Answer(_) | Act::AnswerThenClose(_) | Act::SilentAfterGreeting => {
                write.write_all(&greeting).await.unwrap();
                read.read_line(&mut command).await.unwrap();
                match act {
                    Act::Answer(answer) => {
                        for piece in answer.chunks(100) {
                            write.write_all(piece).await.unwrap();
                            tokio::task::yield_now().await;
                        }
                        let _ = read.read_line(&mut String::new()).await;
                    }
                    Act::AnswerThenClose(bytes) => write.write_all(&bytes).await.unwrap(),
                    _ => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            }
        }
        command
    });
    (path, task)
}

#[tokio::test]
async fn query_reads_the_replayed_reply() {
    let dir = tempfile::tempdir().unwrap();
    let answer = capture("established.k8s-1.sock.show_protocols_all.txt");
    let (path, server) = replay(dir.path(), "bird.ctl", Act::Answer(answer.clone()));
    let reply = query(&path, SHOW_PROTOCOLS_ALL, DEFAULT_TIMEOUT).await.unwrap();
    assert_eq!(reply, parse_reply_bytes(&answer).unwrap());
    assert_eq!(server.await.unwrap(), "show protocols all\n");
}

#[tokio::test]
async fn a_reply_sent_with_the_greeting_is_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let answer = capture("switch-stopped.k8s-1.sock.show_protocols.txt");
    let (path, server) = replay(dir.path(), "bird.ctl", Act::AnswerEarly(answer.clone()));
    let reply = query(&path, "show protocols", DEFAULT_TIMEOUT).await.unwrap();
    assert_eq!(reply, parse_reply_bytes(&answer).unwrap());
    assert_eq!(server.await.unwrap(), "show protocols\n");
}

#[tokio::test]
async fn node_peers_reads_both_sockets_and_skips_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let v4 = capture("switch-stopped.k8s-1.sock.show_protocols_all.txt");
    let v6 = b"2002-name     proto    table    state  since       info\n\
               1002-Mesh_fd80__2 BGP      master   up     14:19:24    Established   \n0000 \n"
        .to_vec();
    let (bird, _s1) = replay(dir.path(), "bird.ctl", Act::Answer(v4.clone()));
    let (bird6, _s2) = replay(dir.path(), "bird6.ctl", Act::Answer(v6));
    let rows = node_peers("k8s-1", &[bird.clone(), bird6], DEFAULT_TIMEOUT).await.unwrap();
    let got: Vec<(&str, BgpState)> = rows.iter().map(|r| (r.peer_address.as_str(), r.bgp_state)).collect();
    assert_eq!(
        got,
        [
            ("172.31.13.28", BgpState::Established),
            ("172.31.13.29", BgpState::Established),
            ("172.31.13.116", BgpState::Active),
            ("fd80::2", BgpState::Established),
        ]
    );
    assert_eq!(rows[2].info, "Socket: Connection refused");

    // No bird6 on this node: its socket is missing, or left behind with nobody listening.
    let (bird, _s3) = replay(dir.path(), "again.ctl", Act::Answer(v4));
    let stale = dir.path().join("stale6.ctl");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let missing = dir.path().join("missing6.ctl");
    let rows = node_peers("k8s-1", &[bird, missing.clone(), stale.clone()], DEFAULT_TIMEOUT).await.unwrap();
    assert_eq!(rows.len(), 3);

    // Nothing answers: the first socket's error.
    let e = node_peers("k8s-1", &[missing.clone(), stale], DEFAULT_TIMEOUT).await.unwrap_err();
    assert!(matches!(&e, BirdError::NotFound { path } if *path == missing), "{e:?}");
    assert!(matches!(node_peers("k8s-1", &[], DEFAULT_TIMEOUT).await, Err(BirdError::NoSockets)));
}

#[tokio::test]
async fn other_failures_fail_node_peers() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _s1) = replay(dir.path(), "bird.ctl", Act::Answer(capture("established.k8s-1.sock.show_protocols.txt")));
    let (bad, _s2) = replay(dir.path(), "bird6.ctl", Act::Answer(capture("established.k8s-1.sock.show_route.txt")));
    let e = node_peers("k8s-1", &[good, bad.clone()], DEFAULT_TIMEOUT).await.unwrap_err();
    assert!(matches!(&e, BirdError::Protocols { path, .. } if *path == bad), "{e:?}");
    assert!(e.to_string().starts_with(&format!("BIRD at {}: BIRD's reply is not a protocol table", bad.display())));
}

#[tokio::test]
async fn missing_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bird.ctl");
    let e = query(&path, SHOW_PROTOCOLS_ALL, SHORT).await.unwrap_err();
    assert!(e.is_absent());
    assert_eq!(
        e.to_string(),
        format!(
            "cannot read BIRD at {}: no such socket. BIRD (calico-node's BGP daemon) creates it when it runs; is \
             calico-node running on this node with the BIRD backend? Give the path with --bird-socket.",
            path.display()
        )
    );
}

#[tokio::test]
async fn stale_socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bird.ctl");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let e = query(&path, SHOW_PROTOCOLS_ALL, SHORT).await.unwrap_err();
    assert!(matches!(e, BirdError::Refused { .. }), "{e:?}");
    assert!(e.to_string().contains("no BIRD listens on it: BIRD is not running"), "{e}");
}

#[test]
fn permission_denied_is_named_with_what_to_do() {
    // Root ignores a socket's mode, so the real refusal is tested in the lab, as `nobody`
    // (tests/bird_lab.rs); here, the kernel's EACCES becomes the operator's message.
    let path = std::path::Path::new("/var/run/calico/bird.ctl");
    let e = super::super::client::io_error(path, std::io::Error::from(std::io::ErrorKind::PermissionDenied));
    assert!(matches!(e, BirdError::PermissionDenied { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("/var/run/calico/bird.ctl") && text.contains("permission denied") && text.contains("root"),
        "{text}"
    );
}

#[tokio::test]
async fn silence_times_out_per_read() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _s1) = replay(dir.path(), "silent.ctl", Act::Silent);
    let start = Instant::now();
    let e = query(&path, SHOW_PROTOCOLS_ALL, SHORT).await.unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e, BirdError::Timeout { waiting_for: "its greeting", .. }), "{e:?}");
    assert!(took >= SHORT && took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "BIRD at {} did not answer within 200ms (waiting for its greeting). BIRD may be stuck or very busy; \
             try again, and check calico-node's logs on this node.",
            path.display()
        )
    );
    let (path, _s2) = replay(dir.path(), "greets.ctl", Act::SilentAfterGreeting);
    let e = query(&path, SHOW_PROTOCOLS_ALL, SHORT).await.unwrap_err();
    assert!(matches!(e, BirdError::Timeout { waiting_for: "its reply", .. }), "{e:?}");
}

#[tokio::test]
async fn closed_in_the_middle_of_a_reply() {
    let dir = tempfile::tempdir().unwrap();
    let answer = capture("established.k8s-1.sock.show_protocols_all.txt");
    let half = answer[..answer.len() / 2].to_vec();
    let (path, _s) = replay(dir.path(), "bird.ctl", Act::AnswerThenClose(half));
    let e = query(&path, SHOW_PROTOCOLS_ALL, DEFAULT_TIMEOUT).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "BIRD at {} closed the connection in the middle of its reply (BIRD stopped or restarted?)",
            path.display()
        )
    );
}

#[tokio::test]
async fn bird_errors_and_strangers() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _s1) = replay(dir.path(), "a.ctl", Act::AnswerThenClose(b"8003 No protocols match\n".to_vec()));
    let e = query(&path, "show protocols Node_1", SHORT).await.unwrap_err();
    assert!(matches!(&e, BirdError::Reply { source: ReplyError::Bird { code: 8003, .. }, .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "BIRD at {}: BIRD answered \"No protocols match\" (8003): no protocol has that name or matches that pattern",
            path.display()
        )
    );
    let (path, _s2) = replay(dir.path(), "b.ctl", Act::Greet(b"0013 Daemon is up and running\n".to_vec()));
    let e = query(&path, "show status", SHORT).await.unwrap_err();
    assert!(matches!(e, BirdError::NotBird { .. }), "{e:?}");
    let (path, _s3) = replay(dir.path(), "c.ctl", Act::Greet(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()));
    let e = query(&path, "show status", SHORT).await.unwrap_err();
    assert!(matches!(e, BirdError::Reply { source: ReplyError::Malformed { line_no: 1, .. }, .. }), "{e:?}");
    let e = query(&path, "show\nstatus", SHORT).await.unwrap_err();
    assert!(matches!(e, BirdError::BadCommand { .. }), "{e:?}");
}

#[test]
fn default_sockets_follow_calicoctls_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let v4 = [p("calico/bird.ctl"), p("bird/bird.ctl")];
    let v6 = [p("calico/bird6.ctl"), p("bird/bird6.ctl")];
    assert_eq!(pick_sockets(&v4, &v6), Vec::<PathBuf>::new(), "nothing exists: nothing to read");
    std::fs::create_dir_all(p("bird")).unwrap();
    std::fs::create_dir_all(p("calico")).unwrap();
    std::fs::write(p("bird/bird.ctl"), "").unwrap();
    std::fs::write(p("bird/bird6.ctl"), "").unwrap();
    assert_eq!(pick_sockets(&v4, &v6), [p("bird/bird.ctl"), p("bird/bird6.ctl")]);
    std::fs::write(p("calico/bird.ctl"), "").unwrap();
    assert_eq!(pick_sockets(&v4, &v6), [p("calico/bird.ctl"), p("bird/bird6.ctl")]);
    assert_eq!(IPV4_SOCKETS[0], "/var/run/calico/bird.ctl");
}

//! Tests of the BIRD module against the lab's byte-exact captures of BIRD 1.6.8
//! (`<shared>/bird/captures/`), read at test time.

mod client;
mod protocols;
mod replies;

use std::path::{Path, PathBuf};

/// `<shared>/bird/captures`, where `<shared>` is `$CALICO_BGP_WIZARD_SHARED`, else a `shared/`
/// folder beside the checkout or one of its parents, else `/work/shared`.
fn captures_dir() -> PathBuf {
    let probe = "bird/captures";
    let mut candidates: Vec<PathBuf> =
        std::env::var_os("CALICO_BGP_WIZARD_SHARED").map(PathBuf::from).into_iter().collect();
    candidates.extend(Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().map(|a| a.join("shared")));
    candidates.push(PathBuf::from("/work/shared"));
    match candidates.iter().find(|c| c.join(probe).is_dir()) {
        Some(dir) => dir.join(probe),
        None => panic!(
            "BIRD captures ({probe}) not found in the shared folder (tried {}); set CALICO_BGP_WIZARD_SHARED to the folder that holds bird/",
            candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The raw bytes of one capture, e.g. `established.k8s-1.sock.show_protocols.txt`.
fn capture(name: &str) -> Vec<u8> {
    let path = captures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read the capture {}: {e}", path.display()))
}

pub(crate) fn capture_str(name: &str) -> String {
    String::from_utf8(capture(name)).expect("captures are UTF-8")
}

/// Names of every raw socket capture (`*.sock.*.txt`, not the `.repr.txt` twins).
fn sock_captures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(captures_dir())
        .expect("read the captures folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".sock.") && n.ends_with(".txt") && !n.ends_with(".repr.txt"))
        .collect();
    names.sort();
    assert!(names.len() >= 30, "expected the lab's ~34 socket captures, found {names:?}");
    names
}

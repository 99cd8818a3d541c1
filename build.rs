//! Puts the git revision into `--version`: `calico-bgp-wizard 0.1.0 (git 056f6d2a1b2c)`, with
//! `-dirty` when tracked files differ from that commit (untracked files do not count, as with
//! `git describe --dirty`), and `(git unknown)` when the crate has no `.git` of its own (a source
//! tarball, a crates.io download) or git cannot be run.
//!
//! Reruns only when the answer can change: `.git/HEAD`, the branch ref it points to (loose or in
//! `packed-refs`), the index (staging, commits), and the crate's own sources, which the compiler
//! reads anyway (an edit there can make the tree dirty; a rerun costs nothing extra because the
//! crate is rebuilt for that edit in any case). Only paths that exist are watched: cargo reruns
//! the script on every build for a missing one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let revision = revision(&manifest_dir);
    println!("cargo:rustc-env=CALICO_BGP_WIZARD_VERSION={} (git {revision})", env!("CARGO_PKG_VERSION"));

    let mut watched = Vec::new();
    for source in ["build.rs", "src", "assets", "Cargo.toml", "Cargo.lock"] {
        watched.push(manifest_dir.join(source));
    }
    if manifest_dir.join(".git").exists() {
        watched.extend(git_files(&manifest_dir));
    }
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The short commit id, `-dirty` when tracked files changed, or `unknown`.
fn revision(dir: &Path) -> String {
    if !dir.join(".git").exists() {
        return "unknown".into();
    }
    let Some(commit) = git(dir, &["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".into();
    };
    // --no-optional-locks: status must not rewrite .git/index, which is watched (a rewrite during
    // the build would make the next build run this script again).
    match git(dir, &["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"]) {
        Some(changes) if changes.is_empty() => commit,
        Some(_) => format!("{commit}-dirty"),
        None => "unknown".into(),
    }
}

/// HEAD, the index, the ref HEAD names and packed-refs, as git locates them (also in a worktree,
/// where `.git` is a file).
fn git_files(dir: &Path) -> Vec<PathBuf> {
    let mut names = vec!["HEAD".to_string(), "index".into(), "packed-refs".into()];
    if let Some(reference) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        names.push(reference);
    }
    let mut args = vec!["rev-parse".to_string()];
    for name in &names {
        args.extend(["--git-path".into(), name.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    git(dir, &args).map(|out| out.lines().map(|p| dir.join(p)).collect()).unwrap_or_default()
}

/// Runs git in `dir` and returns its trimmed stdout, or None if it could not run or failed. The
/// caller's GIT_DIR and friends (set when cargo runs from a git hook) are ignored so that the
/// crate's own repository is read.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_COMMON_DIR")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

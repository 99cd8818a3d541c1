//! The portable release binary (`scripts/release.sh`: cargo-zigbuild against glibc 2.17, rustls,
//! LTO, stripped) is one file that runs on CentOS 7 and later. Checked here with binutils'
//! `readelf`: no glibc symbol version newer than 2.17, only glibc's own libraries needed (no
//! libssl or libcrypto), no symbol table; then it is run and must answer as the debug build does.
//!
//! The binary is `$CALICO_BGP_WIZARD_RELEASE_BIN` (tests/run-all.sh builds it once and sets it),
//! else this test runs `scripts/release.sh` itself (minutes when target/dist is cold). The same
//! checker is applied to the normal host build, linked against the build machine's newer glibc,
//! and must reject it: the check can fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

/// The normal host build (`cargo test` builds it), linked against Debian 12's glibc 2.36.
const HOST_BIN: &str = env!("CARGO_BIN_EXE_calico-bgp-wizard");
/// CentOS 7's glibc.
const OLDEST_GLIBC: [u32; 2] = [2, 17];
/// Libraries a glibc system always has; nothing else may be NEEDED.
const SYSTEM_LIBRARIES: [&str; 8] = [
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "ld-linux-x86-64.so.2",
    "libgcc_s.so.1",
];
/// Longer than any command here takes, even in a debug build; a hang fails instead of blocking.
const TIMEOUT: Duration = Duration::from_secs(120);

// ---- readelf output → glibc versions (pure) -----------------------------------------------------------

/// A `GLIBC_…` symbol version. Numbered ones order as versions (2.2.5 < 2.14); any other, such as
/// `GLIBC_PRIVATE`, sorts after every number: a portable binary must not need it either.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum GlibcVersion {
    Numbered(Vec<u32>),
    Other(String),
}

/// Every glibc version named in `readelf -V` (`Name: GLIBC_2.14`) or `readelf -W --dyn-syms`
/// (`memcpy@GLIBC_2.14 (3)`) output, with the word it stands in (the symbol, for --dyn-syms), in
/// order of appearance.
fn glibc_versions(readelf: &str) -> Vec<(String, GlibcVersion)> {
    let mut found = Vec::new();
    for word in readelf.split_whitespace() {
        let Some(at) = word.find("GLIBC_") else { continue };
        if word[..at].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // e.g. MYGLIBC_1.0: not glibc's
        }
        let name: String =
            word[at + "GLIBC_".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
        let name = name.trim_end_matches('.');
        let numbers: Option<Vec<u32>> = name.split('.').map(|n| n.parse().ok()).collect();
        let version = match numbers {
            Some(numbers) => GlibcVersion::Numbered(numbers),
            None => GlibcVersion::Other(name.to_string()),
        };
        found.push((word.to_string(), version));
    }
    found
}

/// The words of `readelf` output that need a glibc newer than `max`, each once.
fn newer_than(readelf: &str, max: &[u32]) -> Vec<String> {
    let max = GlibcVersion::Numbered(max.to_vec());
    let mut words: Vec<String> =
        glibc_versions(readelf).into_iter().filter(|(_, version)| *version > max).map(|(word, _)| word).collect();
    words.sort();
    words.dedup();
    words
}

/// The newest numbered glibc version named, as `2.17`.
fn newest(readelf: &str) -> Option<String> {
    glibc_versions(readelf)
        .into_iter()
        .filter_map(|(_, version)| match version {
            GlibcVersion::Numbered(numbers) => Some(numbers),
            GlibcVersion::Other(_) => None,
        })
        .max()
        .map(|numbers| numbers.iter().map(u32::to_string).collect::<Vec<_>>().join("."))
}

/// The libraries of `readelf -d`'s `(NEEDED) Shared library: [libc.so.6]` lines.
fn needed_libraries(readelf_dynamic: &str) -> Vec<String> {
    readelf_dynamic
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| Some(line.split_once('[')?.1.split_once(']')?.0.to_string()))
        .collect()
}

/// Section names of `readelf -S` that a stripped binary does not have.
fn unstripped_sections(readelf_sections: &str) -> Vec<String> {
    readelf_sections
        .split_whitespace()
        .filter(|word| *word == ".symtab" || *word == ".strtab" || word.starts_with(".debug_"))
        .map(str::to_string)
        .collect()
}

#[test]
fn glibc_versions_are_read_from_readelf_output() {
    let needs = "\
Version needs section '.gnu.version_r' contains 2 entries:
 Addr: 0x0000000000000a18  Offset: 0x000a18  Link: 6 (.dynstr)
  000000: Version: 1  File: ld-linux-x86-64.so.2  Cnt: 1
  0x0010:   Name: GLIBC_2.3  Flags: none  Version: 11
  0x0020: Version: 1  File: libc.so.6  Cnt: 4
  0x0030:   Name: GLIBC_2.2.5  Flags: none  Version: 2
  0x0040:   Name: GLIBC_2.14  Flags: none  Version: 3
  0x0050:   Name: GLIBC_2.17  Flags: none  Version: 6
  0x0060:   Name: GLIBC_2.9  Flags: none  Version: 7
";
    assert_eq!(
        glibc_versions(needs).into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        [vec![2, 3], vec![2, 2, 5], vec![2, 14], vec![2, 17], vec![2, 9]].map(GlibcVersion::Numbered)
    );
    assert_eq!(newest(needs).as_deref(), Some("2.17"));
    assert_eq!(newer_than(needs, &OLDEST_GLIBC), Vec::<String>::new());
    // 2.9 < 2.14 < 2.17 < 2.28 as versions, not as text.
    assert_eq!(newer_than(needs, &[2, 9]), ["GLIBC_2.14", "GLIBC_2.17"]);

    let symbols = "\
Symbol table '.dynsym' contains 4 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND 
     1: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND __libc_start_main@GLIBC_2.34 (2)
     2: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND memcpy@GLIBC_2.14 (3)
    72: 0000000000000000     0 FUNC    WEAK   DEFAULT  UND gettid@GLIBC_2.30 (14)
    73: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND _ZNSt6thread@GLIBCXX_3.4.22 (15)
    74: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND __nss_lookup@GLIBC_PRIVATE (16)
    75: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND other@MYGLIBC_9.0 (17)
";
    assert_eq!(newest(symbols).as_deref(), Some("2.34"));
    assert_eq!(
        newer_than(symbols, &OLDEST_GLIBC),
        ["__libc_start_main@GLIBC_2.34", "__nss_lookup@GLIBC_PRIVATE", "gettid@GLIBC_2.30"],
        "libstdc++'s GLIBCXX_ and other libraries' versions are not glibc's; GLIBC_PRIVATE is never allowed"
    );

    let dynamic = "\
 0x0000000000000001 (NEEDED)             Shared library: [libssl.so.3]
 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]
 0x000000000000000c (INIT)               0x5000
";
    assert_eq!(needed_libraries(dynamic), ["libssl.so.3", "libc.so.6"]);

    let sections = "\
  [27] .comment          PROGBITS        0000000000000000 0a1c3f8 00001f 01  MS  0   0  1
  [28] .debug_info       PROGBITS        0000000000000000 0a1c417 000010 00      0   0  1
  [29] .symtab           SYMTAB          0000000000000000 0a1c428 0a2b18 18     30 2901  8
";
    assert_eq!(unstripped_sections(sections), [".debug_info", ".symtab"]);
}

// ---- the binaries ---------------------------------------------------------------------------------------

/// The release binary: `$CALICO_BGP_WIZARD_RELEASE_BIN`, else built once by scripts/release.sh.
fn release_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("CALICO_BGP_WIZARD_RELEASE_BIN").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "CALICO_BGP_WIZARD_RELEASE_BIN={} is not a file", path.display());
            return path;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/release.sh");
        eprintln!("CALICO_BGP_WIZARD_RELEASE_BIN is not set: running {}", script.display());
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run bash {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{} failed ({}); its output is above\n{stdout}", script.display(), out.status);
        let path = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
        assert!(path.is_file(), "{}'s last line is not the binary's path:\n{stdout}", script.display());
        path
    })
}

/// `readelf ARGS BINARY`'s stdout; fails the test, naming the package, when readelf is missing.
fn readelf(args: &[&str], binary: &Path) -> String {
    let out = Command::new("readelf")
        .args(args)
        .arg(binary)
        .output()
        .unwrap_or_else(|e| panic!("cannot run readelf ({e}): it comes with binutils (apt-get install binutils)"));
    assert!(
        out.status.success(),
        "readelf {args:?} {} failed: {}",
        binary.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("readelf prints text")
}

/// The glibc symbol versions `binary` needs (version needs, and each dynamic symbol's version).
fn glibc_needs(binary: &Path) -> String {
    readelf(&["-W", "-V"], binary) + &readelf(&["-W", "--dyn-syms"], binary)
}

#[test]
fn release_binary_needs_glibc_2_17_at_most_no_openssl_and_is_stripped() {
    let bin = release_binary();
    let needs = glibc_needs(bin);
    let too_new = newer_than(&needs, &OLDEST_GLIBC);
    let symbols: Vec<&String> = too_new.iter().filter(|word| word.contains('@')).collect();
    assert!(too_new.is_empty(), "{} needs a glibc newer than 2.17: {symbols:?} {too_new:?}", bin.display());
    let newest = newest(&needs);
    assert!(newest.is_some(), "{} names no glibc version at all; readelf -V:\n{needs}", bin.display());
    eprintln!("{}: newest glibc version needed: {}", bin.display(), newest.unwrap_or_default());

    let libraries = needed_libraries(&readelf(&["-W", "-d"], bin));
    assert!(libraries.iter().any(|l| l == "libc.so.6"), "not linked against glibc: {libraries:?}");
    for library in &libraries {
        assert!(
            !library.starts_with("libssl") && !library.starts_with("libcrypto"),
            "OpenSSL is needed: {libraries:?}"
        );
        assert!(SYSTEM_LIBRARIES.contains(&library.as_str()), "{library} is needed, which a node may not have");
    }
    let program = readelf(&["-W", "-l"], bin);
    assert!(
        program.contains("[Requesting program interpreter: /lib64/ld-linux-x86-64.so.2]"),
        "not glibc's standard x86_64 loader:\n{program}"
    );

    let unstripped = unstripped_sections(&readelf(&["-W", "-S"], bin));
    assert!(unstripped.is_empty(), "{} is not stripped: {unstripped:?}", bin.display());
}

/// The checks above can fail: the host build, linked against glibc 2.36, needs newer versions and
/// keeps its symbol table.
#[test]
fn host_build_is_rejected_by_the_same_checks() {
    let host = Path::new(HOST_BIN);
    let too_new = newer_than(&glibc_needs(host), &OLDEST_GLIBC);
    assert!(
        too_new.iter().any(|word| word.contains("@GLIBC_2.")),
        "the host build needs nothing newer than glibc 2.17 ({too_new:?}): the checker would pass anything"
    );
    assert!(!unstripped_sections(&readelf(&["-W", "-S"], host)).is_empty(), "the debug build has no .symtab");
}

/// `binary ARGS` with an empty HOME and no environment but PATH: (exit code, stdout, stderr).
fn run(binary: &Path, args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().expect("temp HOME");
    let child = Command::new(binary)
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let pid = child.id();
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let out = match result.recv_timeout(TIMEOUT) {
        Ok(out) => out.expect("wait for the binary"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("{} {args:?} did not finish within {TIMEOUT:?}", binary.display());
        }
    };
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8 output");
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[test]
fn release_binary_runs_and_answers_as_the_debug_build() {
    let release = release_binary();
    let debug = Path::new(HOST_BIN);
    let version = run(release, &["--version"]);
    assert_eq!(version.0, 0, "{version:?}");
    assert!(
        version.1.starts_with(&format!("calico-bgp-wizard {} (git ", env!("CARGO_PKG_VERSION"))),
        "--version lacks the git revision: {version:?}"
    );
    assert_eq!(
        version,
        run(debug, &["--version"]),
        "the release binary was built from another revision than this test (rebuild it: bash scripts/release.sh)"
    );
    // The README's demo walkthrough as `plan`, on the embedded demo.
    let plan: Vec<&str> = std::iter::once("--demo").chain(common::wizard::DEMO_PLAN).collect();
    for args in [&["--demo", "detect"][..], &["--demo", "detect", "-o", "json"], &plan, &["rbac"]] {
        let from_release = run(release, args);
        assert_eq!(from_release.0, 0, "{args:?}: {from_release:?}");
        assert!(!from_release.1.is_empty(), "{args:?} printed nothing");
        assert_eq!(from_release, run(debug, args), "{args:?}: the release binary answers differently");
    }
}

/// The zig-linked binary has its own unwinder (no libgcc_s): a panic must still unwind into
/// color-eyre's hook, which restores the terminal (leaves the alternate screen) and reports, in a
/// real pseudo-terminal (util-linux `script`), with the wizard's panic test hook.
#[test]
fn release_binary_restores_the_terminal_on_a_panic() {
    let binary = release_binary();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("script")
        .args(["-qec", &format!("{} --demo", binary.display()), "/dev/null"])
        .env("CALICO_BGP_WIZARD_TEST_PANIC", "1")
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .expect("run util-linux script");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "a panic exits 101:\n{text}");
    assert!(text.contains("panicking on purpose"), "the report names the panic:\n{text}");
    let left = text.rfind("\x1b[?1049l").expect("the alternate screen is left");
    let report = text.find("The application panicked").expect("color-eyre's report");
    assert!(left < report, "the terminal is restored before the report is printed:\n{text}");
}

//! Finding the cluster the way kubectl does: `--kubeconfig`, then `$KUBECONFIG` (several files
//! merged), then `~/.kube/config`, then, for root on a control-plane node, `/etc/kubernetes/admin.conf`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ::kube::config::{KubeConfigOptions, Kubeconfig};

use super::errors::Target;

/// kubeadm's admin kubeconfig on control-plane nodes (readable by root only).
pub const ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";

/// Where the kubeconfig comes from, in kubectl's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigSource {
    /// `--kubeconfig PATH`.
    Flag(PathBuf),
    /// `$KUBECONFIG` (a `:`-separated list, merged as kubectl does).
    Env(OsString),
    /// `~/.kube/config`.
    Home(PathBuf),
    /// `/etc/kubernetes/admin.conf`, used only when running as root and nothing else exists.
    AdminConf(PathBuf),
}

impl KubeconfigSource {
    pub fn describe(&self) -> String {
        match self {
            KubeconfigSource::Flag(p) => format!("--kubeconfig {}", p.display()),
            KubeconfigSource::Env(v) => format!("KUBECONFIG={}", v.to_string_lossy()),
            KubeconfigSource::Home(p) | KubeconfigSource::AdminConf(p) => p.display().to_string(),
        }
    }
}

/// Which kubeconfig to use; None when there is none (the wizard then offers the demo). Pure: the
/// caller passes what it found on this machine.
pub fn choose(
    flag: Option<&Path>,
    env: Option<OsString>,
    home_config: Option<PathBuf>,
    is_root: bool,
    exists: impl Fn(&Path) -> bool,
) -> Option<KubeconfigSource> {
    if let Some(p) = flag {
        return Some(KubeconfigSource::Flag(p.to_path_buf()));
    }
    if let Some(v) = env.filter(|v| !v.is_empty()) {
        return Some(KubeconfigSource::Env(v));
    }
    if let Some(h) = home_config.filter(|h| exists(h)) {
        return Some(KubeconfigSource::Home(h));
    }
    let admin = Path::new(ADMIN_CONF);
    (is_root && exists(admin)).then(|| KubeconfigSource::AdminConf(admin.to_path_buf()))
}

/// [`choose`] with this machine's environment.
pub fn find(flag: Option<&Path>) -> Option<KubeconfigSource> {
    let home = directories::BaseDirs::new().map(|b| b.home_dir().join(".kube/config"));
    choose(flag, std::env::var_os("KUBECONFIG"), home, running_as_root(), Path::exists)
}

/// The effective user is root: `/proc/self` belongs to the process's effective uid.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A client for `source`'s chosen context, and the server and context it talks to.
pub async fn client(source: &KubeconfigSource, context: Option<&str>) -> Result<(::kube::Client, Target), String> {
    let kc = match source {
        KubeconfigSource::Env(v) => {
            let mut merged: Option<Kubeconfig> = None;
            for p in std::env::split_paths(v).filter(|p| !p.as_os_str().is_empty()) {
                if !p.exists() {
                    continue; // kubectl skips missing files in KUBECONFIG too
                }
                let k = read(&p)?;
                merged = Some(match merged {
                    None => k,
                    Some(m) => m.merge(k).map_err(|e| format!("cannot merge the kubeconfig '{}': {e}", p.display()))?,
                });
            }
            merged.ok_or_else(|| {
                format!("KUBECONFIG={} names no existing file; fix it or unset it", v.to_string_lossy())
            })?
        }
        KubeconfigSource::Flag(p) | KubeconfigSource::Home(p) | KubeconfigSource::AdminConf(p) => {
            if !p.exists() {
                return Err(format!("the kubeconfig '{}' does not exist; check the path", p.display()));
            }
            read(p)?
        }
    };
    let ctx_name = match context {
        Some(c) => c.to_string(),
        None => kc.current_context.clone().ok_or_else(|| {
            format!(
                "the kubeconfig ({}) has no current context; choose one with --context (contexts: {})",
                source.describe(),
                context_names(&kc)
            )
        })?,
    };
    if !kc.contexts.iter().any(|c| c.name == ctx_name) {
        return Err(format!(
            "context '{ctx_name}' is not in the kubeconfig ({}); contexts there: {}",
            source.describe(),
            context_names(&kc)
        ));
    }
    let opts = KubeConfigOptions { context: Some(ctx_name.clone()), ..Default::default() };
    let mut config = ::kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| format!("cannot use context '{ctx_name}' of {}: {e}", source.describe()))?;
    // Fail fast when the server is gone (the default would hang on a dead peer).
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(60));
    let target = Target { server: config.cluster_url.to_string().trim_end_matches('/').to_string(), context: ctx_name };
    let client =
        ::kube::Client::try_from(config).map_err(|e| format!("cannot set up a client for {}: {e}", target.server))?;
    Ok((client, target))
}

fn read(p: &Path) -> Result<Kubeconfig, String> {
    Kubeconfig::read_from(p).map_err(|e| match std::fs::metadata(p) {
        Err(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            format!("cannot read the kubeconfig '{}': permission denied (run as its owner, or with sudo)", p.display())
        }
        _ => format!("cannot read the kubeconfig '{}': {e}", p.display()),
    })
}

fn context_names(kc: &Kubeconfig) -> String {
    let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    if names.is_empty() { "none".into() } else { names.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yes(_: &Path) -> bool {
        true
    }
    fn no(_: &Path) -> bool {
        false
    }

    #[test]
    fn kubectl_order() {
        let home = Some(PathBuf::from("/home/op/.kube/config"));
        let flag = Path::new("/tmp/k");
        assert_eq!(
            choose(Some(flag), Some("x".into()), home.clone(), true, yes),
            Some(KubeconfigSource::Flag(flag.into()))
        );
        assert_eq!(choose(None, Some("x".into()), home.clone(), true, yes), Some(KubeconfigSource::Env("x".into())));
        assert_eq!(
            choose(None, Some("".into()), home.clone(), true, yes),
            Some(KubeconfigSource::Home(home.clone().unwrap()))
        );
        assert_eq!(choose(None, None, home.clone(), false, no), None);
    }

    #[test]
    fn admin_conf_only_for_root() {
        let home = Some(PathBuf::from("/root/.kube/config"));
        let only_admin = |p: &Path| p == Path::new(ADMIN_CONF);
        assert_eq!(
            choose(None, None, home.clone(), true, only_admin),
            Some(KubeconfigSource::AdminConf(ADMIN_CONF.into()))
        );
        assert_eq!(choose(None, None, home, false, only_admin), None);
    }
}

//! What `main` runs for each subcommand: choose the backend, then the wizard, the dashboard,
//! `status --once`, the headless `plan`, or completions. Returns the process exit code.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::CommandFactory;
use color_eyre::eyre::{Result, eyre};

use crate::app::{App, Mode};
use crate::backend::Backend;
use crate::cli::{Cli, Command, Global, PlanArgs, PlanFormat, StatusArgs, StatusFormat};
use crate::demo::DemoCluster;
use crate::domain::answers::{Answers, Password, PoolChoice};
use crate::domain::{facts, validate};
use crate::plan::{self, render, switch};
use crate::status::table;

/// Exit code for bad input (`plan` with findings that are errors).
pub const EXIT_BAD_INPUT: i32 = 2;

/// The state directory (logs, later backups): `$XDG_STATE_HOME/calico-bgp-wizard` or the like.
pub fn state_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "calico-bgp-wizard")
        .map(|d| d.state_dir().unwrap_or_else(|| d.data_local_dir()).to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("calico-bgp-wizard"))
}

/// Log to a file in the state directory, never to the screen. Returns the guard that flushes it.
pub fn init_logging(level: &str) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = state_dir().join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "calico-bgp-wizard.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_new(format!("calico_bgp_wizard={level}"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("calico_bgp_wizard=info"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}

/// True when the operator pointed us at a cluster, or one is configured where kubectl looks.
fn cluster_configured(g: &Global) -> bool {
    if g.kubeconfig.is_some() || g.context.is_some() || std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    let home = directories::BaseDirs::new().map(|b| b.home_dir().join(".kube/config"));
    home.is_some_and(|p| p.exists())
}

/// The backend for this run: the demo when asked for, or when no cluster is configured.
fn backend(g: &Global) -> Result<(Backend, bool)> {
    if g.demo || !cluster_configured(g) {
        let cluster = match g.demo_nodes {
            Some(n) => DemoCluster::generated(n as usize),
            None => DemoCluster::embedded(),
        };
        return Ok((Backend::demo(cluster), true));
    }
    Err(eyre!(
        "a cluster is configured (kubeconfig), but this build cannot connect to real clusters yet.\n\
         Run with --demo to try the wizard on the embedded demo cluster; nothing real is touched."
    ))
}

pub async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "calico-bgp-wizard", &mut std::io::stdout());
            Ok(0)
        }
        None => {
            let (b, demo) = backend(&cli.global)?;
            crate::tui::run(App::new(Mode::Wizard, demo), Arc::new(b)).await?;
            Ok(0)
        }
        Some(Command::Status(args)) => status(&cli.global, args).await,
        Some(Command::Plan(args)) => plan_cmd(&cli.global, args).await,
    }
}

async fn status(g: &Global, args: StatusArgs) -> Result<i32> {
    let (b, demo) = backend(g)?;
    if !args.once {
        crate::tui::run(App::new(Mode::Dashboard, demo), Arc::new(b)).await?;
        return Ok(0);
    }
    let rows = b.peers().await.map_err(|e| eyre!("cannot read the BGP sessions: {e}"))?;
    let out = match args.output {
        StatusFormat::Table => table::format_table(&rows),
        StatusFormat::Json => table::format_json(&rows),
    };
    std::io::stdout().write_all(out.as_bytes())?;
    // No session at all is not healthy either: BIRD down, or no peer configured.
    if rows.is_empty() {
        eprintln!("no BGP sessions found");
        return Ok(1);
    }
    let down = rows.iter().filter(|r| !r.is_established()).count();
    if down > 0 {
        eprintln!("{down} of {} BGP sessions are not Established", rows.len());
        return Ok(1);
    }
    Ok(0)
}

async fn plan_cmd(g: &Global, a: PlanArgs) -> Result<i32> {
    let (b, _) = backend(g)?;
    let objects = b.detect().await.map_err(|e| eyre!("cannot read the cluster: {e}"))?;
    let f = facts::detect(&objects);
    let password = match &a.password_file {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| eyre!("cannot read the password file '{}': {e}", p.display()))?;
            let first = text.lines().next().unwrap_or("").to_string();
            if first.is_empty() {
                return Err(eyre!(
                    "the password file '{}' is empty (its first line is the password); leave out --password-file for no password",
                    p.display()
                ));
            }
            Password(first)
        }
        None => Password::default(),
    };
    let pool = match f.pools.iter().find(|p| p.name == a.pool) {
        Some(p) => PoolChoice::Existing(p.name.clone()),
        None => PoolChoice::Cidr(a.pool.clone()),
    };
    let answers = Answers {
        reflectors: a.reflectors.clone(),
        cluster_id: a.cluster_id.clone(),
        switch_ip: a.switch_ip.clone(),
        switch_as: a.switch_as.clone(),
        cluster_as: a.cluster_as.clone().unwrap_or_else(|| f.cluster_as().to_string()),
        password,
        keep_original_next_hop: a.keep_next_hop.unwrap_or_else(|| validate::default_keep_next_hop(&a.switch_ip, &f)),
        pool,
        vendor: a.vendor,
    };
    let v = validate::validate(&answers, &f);
    let mut stderr = std::io::stderr();
    for finding in v.findings.iter().filter(|x| x.severity != crate::domain::findings::Severity::Info) {
        writeln!(stderr, "{finding}")?;
    }
    let Some(valid) = v.valid else {
        writeln!(stderr, "no plan: fix the errors above (nothing was changed)")?;
        return Ok(EXIT_BAD_INPUT);
    };
    let p = plan::build_plan(&valid, &f, &objects);
    let params = switch::switch_params(&p, &f);
    match a.output {
        PlanFormat::Yaml => {
            let mut out = render::plan_yaml_v1(&p);
            out.push_str(&format!("# Switch side ({}):\n", a.vendor.label()));
            for l in switch::render(a.vendor, &params).config.lines() {
                out.push_str(&format!("# {l}\n"));
            }
            out.push_str(&format!("# Outside client: {}\n", p.client_route));
            std::io::stdout().write_all(out.as_bytes())?;
        }
        PlanFormat::Json => {
            let v = render::plan_json(&p);
            writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
        }
        PlanFormat::Dir => {
            let configs: Vec<(String, String)> =
                switch::render_all(&params).into_iter().map(|c| (c.vendor.id().to_string(), c.config)).collect();
            let files = render::plan_files(&p, &configs);
            let path = crate::worker::write_plan(&a.dir, &files).await.map_err(|e| eyre!(e))?;
            writeln!(std::io::stdout(), "plan written to {path} ({} files)", files.len())?;
        }
    }
    Ok(0)
}

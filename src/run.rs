//! What `main` runs for each subcommand: choose the backend, then the wizard, the dashboard,
//! `status --once`, the headless `plan`, or completions. Returns the process exit code.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::CommandFactory;
use color_eyre::eyre::{Result, eyre};

use crate::app::{App, Mode};
use crate::backend::Backend;
use crate::cli::{Cli, Command, DetectFormat, DoctorArgs, Global, PlanArgs, PlanFormat, StatusArgs, StatusFormat};
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
    // tracing-appender's default channel holds 128,000 lines, allocated and touched at start (about
    // 4 MB, ~40% of a start-up's CPU: benches/startup.rs). We log a few lines a second at most.
    let (writer, guard) =
        tracing_appender::non_blocking::NonBlockingBuilder::default().buffered_lines_limit(1024).finish(appender);
    let filter = tracing_subscriber::EnvFilter::try_new(format!("calico_bgp_wizard={level}"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("calico_bgp_wizard=info"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}

/// The backend for this run: the demo when asked for, or when no cluster is configured anywhere
/// kubectl would look; otherwise the configured cluster.
async fn backend(g: &Global) -> Result<(Backend, bool)> {
    let demo = || {
        let cluster = match g.demo_nodes {
            Some(n) => DemoCluster::generated(n as usize),
            None => DemoCluster::embedded(),
        };
        Ok((Backend::demo(cluster), true))
    };
    if g.demo {
        return demo();
    }
    match crate::kube::connect::find(g.kubeconfig.as_deref()) {
        None if g.context.is_some() => Err(eyre!(
            "--context was given, but no kubeconfig was found (--kubeconfig, $KUBECONFIG, ~/.kube/config, or /etc/kubernetes/admin.conf as root)"
        )),
        None => {
            tracing::info!("no kubeconfig found: running the embedded demo");
            demo()
        }
        Some(src) => {
            let k = crate::kube::KubeBackend::connect(&src, g.context.as_deref()).await.map_err(|e| eyre!(e))?;
            Ok((Backend::Kube(k), false))
        }
    }
}

/// A backend that is a real cluster, for the commands that only make sense there.
async fn real_backend(g: &Global, what: &str) -> Result<Backend> {
    match backend(g).await? {
        (b, false) => Ok(b),
        (_, true) => Err(eyre!(
            "`{what}` works on a real cluster, and none is configured (or --demo was given); on the demo, apply and undo from the wizard's screens"
        )),
    }
}

pub async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "calico-bgp-wizard", &mut std::io::stdout());
            Ok(0)
        }
        Some(Command::Man) => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(0)
        }
        Some(Command::Doctor(args)) => doctor_cmd(&cli.global, args).await,
        Some(Command::Rbac) => {
            print!("{}", crate::kube::rbac::cluster_roles());
            Ok(0)
        }
        Some(Command::Detect { output }) => detect_cmd(&cli.global, output).await,
        Some(Command::Apply { dir, yes, password_file }) => {
            let b = real_backend(&cli.global, "apply").await?;
            crate::headless::apply(b, &dir, yes, password_file.as_deref()).await
        }
        Some(Command::Resume { run, yes, password_file }) => {
            let b = real_backend(&cli.global, "resume").await?;
            crate::headless::resume(b, run.as_deref(), yes, password_file.as_deref()).await
        }
        Some(Command::Rollback { run, yes }) => {
            let b = real_backend(&cli.global, "rollback").await?;
            crate::headless::rollback(b, run.as_deref(), yes).await
        }
        None => {
            let (b, demo) = backend(&cli.global).await?;
            crate::tui::run(App::new(Mode::Wizard, demo), Arc::new(b)).await?;
            Ok(0)
        }
        Some(Command::Status(args)) => status(&cli.global, args).await,
        Some(Command::Plan(args)) => plan_cmd(&cli.global, args).await,
    }
}

/// Exit code of `status --once` when a source could not be read (Nagios' UNKNOWN).
pub const EXIT_UNREADABLE: i32 = 3;

/// The dashboard's backend: local BIRD sockets when asked for (or when no cluster is configured
/// but this machine runs BIRD), else the cluster (or the demo).
async fn status_backend(g: &Global, args: &StatusArgs) -> Result<(Backend, bool)> {
    let local = |values: &[String]| {
        crate::status::local::LocalBird::from_args(values, &crate::status::local::this_node()).map_err(|e| eyre!(e))
    };
    if !args.bird_socket.is_empty() {
        return Ok((Backend::Local(local(&args.bird_socket)?), false));
    }
    if !g.demo
        && crate::kube::connect::find(g.kubeconfig.as_deref()).is_none()
        && !crate::status::bird::client::default_sockets().is_empty()
    {
        return Ok((Backend::Local(local(&[])?), false));
    }
    let (mut b, demo) = backend(g).await?;
    if args.exec {
        match &mut b {
            Backend::Kube(k) => k.sessions = crate::kube::sessions::SessionSource::Exec,
            _ => return Err(eyre!("--exec reads a real cluster's calico-node pods, and none is configured")),
        }
    }
    Ok((b, demo))
}

async fn status(g: &Global, args: StatusArgs) -> Result<i32> {
    let (b, demo) = status_backend(g, &args).await?;
    if !args.once {
        let mut app = App::new(Mode::Dashboard, demo);
        if matches!(b, Backend::Local(_)) {
            app = app.without_cluster();
        }
        crate::tui::run(app, Arc::new(b)).await?;
        return Ok(0);
    }
    let report = match b.peers(&[]).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return Ok(EXIT_UNREADABLE);
        }
    };
    let out = match args.output {
        StatusFormat::Table => table::format_table(&report.rows),
        StatusFormat::Json => table::format_json(&report.rows),
    };
    std::io::stdout().write_all(out.as_bytes())?;
    let mut err = std::io::stderr().lock();
    for p in &report.problems {
        writeln!(err, "cannot read {p}")?;
    }
    let down: Vec<_> = report.rows.iter().filter(|r| !r.is_established()).collect();
    for r in &down {
        let why = crate::status::reason::explain(r).unwrap_or_default();
        let info = r.info_column();
        let info = if info.is_empty() { "down".to_string() } else { info };
        writeln!(err, "{} → {} ({}): {info} — {why}", r.node, r.peer_address, r.peer_type.label())?;
    }
    if !report.problems.is_empty() {
        return Ok(EXIT_UNREADABLE);
    }
    // No session at all is not healthy either: BIRD down, or no peer configured.
    if report.rows.is_empty() {
        writeln!(err, "no BGP sessions found")?;
        return Ok(1);
    }
    if !down.is_empty() {
        writeln!(err, "{} of {} BGP sessions are not Established", down.len(), report.rows.len())?;
        return Ok(1);
    }
    Ok(0)
}

/// A progress note on stderr for a person at a terminal (never into a pipe or a log); `done`
/// ends the line.
struct Progress(bool);

impl Progress {
    fn new() -> Progress {
        Progress(std::io::IsTerminal::is_terminal(&std::io::stderr()))
    }
    fn say(&self, what: &str) {
        if self.0 {
            eprint!("{what}");
            let _ = std::io::stderr().flush();
        }
    }
    fn done(&self) {
        if self.0 {
            // Erase the note: the result follows on stdout.
            eprint!("\r\x1b[2K");
        }
    }
}

/// Read the cluster, saying so while it takes.
async fn read_cluster(b: &Backend) -> Result<crate::domain::objects::ObjectSet> {
    let p = Progress::new();
    p.say("reading the cluster (nodes, Calico configuration, pools, peers)…");
    let r = b.detect().await;
    p.done();
    r.map_err(|e| eyre!("cannot read the cluster: {e}"))
}

async fn detect_cmd(g: &Global, output: DetectFormat) -> Result<i32> {
    let (b, _) = backend(g).await?;
    let objects = read_cluster(&b).await?;
    let f = facts::detect(&objects);
    let mut out = std::io::stdout().lock();
    match output {
        DetectFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&f)?)?,
        DetectFormat::Text => {
            let m = &objects.meta;
            writeln!(out, "cluster:     {} (context {}), Kubernetes {}", m.server, m.context, m.kubernetes_version)?;
            writeln!(
                out,
                "calico:      {:?} install, version {}, backend {}",
                f.install,
                f.calico_version.as_deref().unwrap_or("unknown"),
                f.backend.label()
            )?;
            if !m.calico_api.is_empty() {
                writeln!(out, "calico api:  {}", m.calico_api)?;
            }
            writeln!(out, "nodes:       {}", f.nodes.len())?;
            writeln!(
                out,
                "ip pools:    {}",
                f.pools.iter().map(|p| format!("{} {}", p.name, p.cidr)).collect::<Vec<_>>().join(", ")
            )?;
            writeln!(out, "bgp peers:   {}", f.peers.len())?;
            writeln!(out, "cluster AS:  {}", f.cluster_as())?;
        }
    }
    // The process ends right after this: freeing thousands of nodes' JSON one by one would only
    // delay the exit (about 25 ms for 5,000 nodes), so leave it to the OS.
    std::mem::forget((objects, f));
    Ok(0)
}

async fn doctor_cmd(g: &Global, args: DoctorArgs) -> Result<i32> {
    let switch = crate::doctor::parse_switch_args(&args.switch).map_err(|e| eyre!(e))?;
    let bird_sockets = if args.bird_socket.is_empty() {
        Vec::new()
    } else {
        crate::status::local::LocalBird::from_args(&args.bird_socket, &crate::status::local::this_node())
            .map_err(|e| eyre!(e))?
            .nodes
    };
    let (b, _) = backend(g).await?;
    let objects = match read_cluster(&b).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return Ok(EXIT_UNREADABLE);
        }
    };
    let f = facts::detect(&objects);
    let opts =
        crate::doctor::Options { bird_sockets, all: args.all, ..crate::doctor::Options::for_backend(&b, switch) };
    let p = Progress::new();
    let n = f.nodes.len().min(if args.all { usize::MAX } else { crate::doctor::probe::SAMPLE_LIMIT }) + 1;
    p.say(&format!(
        "{} nodes: trying TCP {} on about {n} hosts (at most {} s)…",
        f.nodes.len(),
        f.bgp_config.as_ref().and_then(|c| c.listen_port).unwrap_or(crate::doctor::BGP_PORT),
        crate::doctor::worst_case(n).as_secs()
    ));
    let report = crate::doctor::check(&f, &opts).await;
    p.done();
    let mut out = std::io::stdout().lock();
    match args.output {
        DetectFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        DetectFormat::Text => {
            out.write_all(crate::doctor::text::format(&report, &objects.meta.context, f.nodes.len()).as_bytes())?
        }
    }
    Ok(if report.has_errors() { 1 } else { 0 })
}

async fn plan_cmd(g: &Global, a: PlanArgs) -> Result<i32> {
    let (b, _) = backend(g).await?;
    let objects = read_cluster(&b).await?;
    let f = facts::detect(&objects);
    let password = match &a.password_file {
        Some(p) => crate::headless::read_password_file(p, "; leave out --password-file for no password")?,
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

//! Thin edge: parse the command line, install error reporting (which restores the terminal on
//! panic), log to a file, run. Errors the operator can act on are printed as one plain line.

use clap::Parser;

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let cli = calico_bgp_wizard::cli::Cli::parse();
    let log = calico_bgp_wizard::run::init_logging(&cli.global.log_level);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let code = match rt.block_on(calico_bgp_wizard::run::run(cli)) {
        Ok(code) => code,
        // The reader went away (`… | head`): stop quietly, as other command-line tools do.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            0
        }
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            1
        }
    };
    drop(log);
    std::process::exit(code);
}

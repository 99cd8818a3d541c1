//! The command line. Global options work before or after the subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::answers::Vendor;

#[derive(Debug, Parser)]
#[command(
    name = "calico-bgp-wizard",
    version = env!("CALICO_BGP_WIZARD_VERSION"),
    about = "Make Calico pod IPs reachable from outside the cluster: BGP with route reflectors peering your top-of-rack switch, applied step by step and verified",
    long_about = "Without a subcommand, starts the guided wizard: detect the cluster, pick route reflectors, enter the switch, choose the pod pool, preview every change, apply step by step (verified, undoable), then watch every BGP session.\n\nWith --demo (or when no cluster is configured) it runs on an embedded demo cluster and changes nothing real."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// Use the embedded demo cluster (Kubernetes 1.24, Calico 3.23, 3 nodes); nothing real is touched.
    #[arg(long, global = true)]
    pub demo: bool,
    /// With --demo: generate a demo cluster of N nodes in several subnets and zones.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub demo_nodes: Option<u32>,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then /etc/kubernetes/admin.conf as root).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// How much goes to the log file, `calico-bgp-wizard.log` under the state directory
    /// ($XDG_STATE_HOME/calico-bgp-wizard/logs, else ~/.local/state/calico-bgp-wizard/logs); nothing is logged to the screen.
    #[arg(long, global = true, value_name = "LEVEL", default_value = "info",
          value_parser = ["error", "warn", "info", "debug", "trace"])]
    pub log_level: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The read-only dashboard: live BGP sessions of every node. Makes no change, ever.
    Status(StatusArgs),
    /// Compute the plan without the wizard and print it (or write it to a directory). Changes nothing.
    Plan(PlanArgs),
    /// Show what the wizard detects in the cluster (nodes, Calico install, pools, peers). Changes nothing.
    Detect {
        /// Output: a summary, or the detected facts as JSON.
        #[arg(short = 'o', long, value_enum, default_value_t = DetectFormat::Text)]
        output: DetectFormat,
    },
    /// Apply a plan directory (from `plan -o dir` or the Preview screen's w) step by step, verified.
    Apply {
        /// The plan directory (holds plan.json).
        #[arg(value_name = "PLAN_DIR")]
        dir: PathBuf,
        /// Do not ask before writing.
        #[arg(long)]
        yes: bool,
        /// The BGP password, when the plan sets one (first line of the file; never saved).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Continue an interrupted run (default: the newest unfinished run against this cluster).
    Resume {
        #[arg(value_name = "RUN")]
        run: Option<String>,
        #[arg(long)]
        yes: bool,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Undo a run from its backups, last step first (default: the newest run against this cluster).
    Rollback {
        #[arg(value_name = "RUN")]
        run: Option<String>,
        #[arg(long)]
        yes: bool,
    },
    /// Preflight network checks from this host: TCP 179 to every node and the switch (open,
    /// refused or filtered), who holds the BGP port here, whether the switch sends the pod pool
    /// back; plus the cluster's own findings. Changes nothing. Exit 0: no error; 1: an error; 3: the
    /// cluster could not be read.
    Doctor(DoctorArgs),
    /// Print the minimal ClusterRoles for the wizard and for the read-only dashboard.
    Rbac,
    /// Print shell completions (e.g. `calico-bgp-wizard completions bash > /etc/bash_completion.d/calico-bgp-wizard`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `calico-bgp-wizard man > /usr/local/share/man/man1/calico-bgp-wizard.1`.
    Man,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The switch's address (`IP` or `IP:PORT`; repeatable). Default: the BGPPeers' peerIPs that
    /// are not nodes.
    #[arg(long, value_name = "IP[:PORT]")]
    pub switch: Vec<String>,
    /// A route reflector's BIRD socket, to see which routes the switch sends (`[NODE=]PATH`;
    /// default: /var/run/calico/bird.ctl when this host has it; needs root).
    #[arg(long, value_name = "[NODE=]PATH")]
    pub bird_socket: Vec<String>,
    /// Try every node (default: on clusters of more than 50 nodes, every route-reflector
    /// candidate and an even sample of the others).
    #[arg(long)]
    pub all: bool,
    /// Output: text, or one JSON object.
    #[arg(short = 'o', long, value_enum, default_value_t = DetectFormat::Text)]
    pub output: DetectFormat,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the table once and exit: 0 when every session is Established, 1 when one is not (or
    /// none exists), 3 when a source could not be read.
    #[arg(long)]
    pub once: bool,
    /// Read this BIRD control socket instead of the cluster (repeatable; NODE= names the node whose
    /// BIRD it is, default this host). Without any: /var/run/calico/bird.ctl and bird6.ctl when
    /// no cluster is configured. Root is needed, as for calicoctl node status.
    #[arg(long, value_name = "[NODE=]PATH")]
    pub bird_socket: Vec<String>,
    /// Read the sessions by running birdcl in the calico-node pod of each route reflector (every
    /// node without them), through pods/exec; needs that permission. Default: CalicoNodeStatus.
    #[arg(long, conflicts_with = "bird_socket")]
    pub exec: bool,
    /// Output format for --once.
    #[arg(short = 'o', long, value_enum, default_value_t = StatusFormat::Table)]
    pub output: StatusFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The top-of-rack switch's IP address.
    #[arg(long, value_name = "IP")]
    pub switch_ip: String,
    /// The switch's AS number (asplain or asdot).
    #[arg(long, value_name = "ASN")]
    pub switch_as: String,
    /// Route-reflector nodes, comma-separated.
    #[arg(long, value_name = "NODES", value_delimiter = ',', required = true)]
    pub reflectors: Vec<String>,
    /// The pod pool: an existing IPPool's CIDR or name, or a new CIDR.
    #[arg(long, value_name = "CIDR|NAME")]
    pub pool: String,
    /// Route-reflector cluster ID shared by the reflectors.
    #[arg(long, value_name = "IPV4", default_value = crate::domain::answers::DEFAULT_CLUSTER_ID)]
    pub cluster_id: String,
    /// The cluster's AS (default: BGPConfiguration's, else 64512).
    #[arg(long, value_name = "ASN")]
    pub cluster_as: Option<String>,
    /// keepOriginalNextHop on the switch peering (default: on when the switch shares a subnet with the nodes).
    #[arg(long, value_name = "BOOL")]
    pub keep_next_hop: Option<bool>,
    /// Read the BGP password from this file (first line); it is never printed.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Switch vendor for the switch-side configuration.
    #[arg(long, value_enum, default_value_t = Vendor::CiscoIos)]
    pub vendor: Vendor,
    /// Output: the objects as YAML, the plan as JSON, or a directory of files (with --dir).
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Yaml)]
    pub output: PlanFormat,
    /// Directory for `-o dir` (must not exist or be empty).
    #[arg(long, value_name = "DIR", default_value = "calico-bgp-plan")]
    pub dir: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Yaml,
    Json,
    Dir,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_work_after_the_subcommand() {
        let c = Cli::try_parse_from(["calico-bgp-wizard", "status", "--once", "--demo"]).unwrap();
        assert!(c.global.demo);
        let c = Cli::try_parse_from(["calico-bgp-wizard", "--demo", "status"]).unwrap();
        assert!(c.global.demo);
    }
}

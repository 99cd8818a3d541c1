//! calico-bgp-wizard: switch a Calico cluster to BGP with route reflectors that peer a top-of-rack
//! switch, safely and step by step, then keep showing whether every BGP session is up.
//!
//! Data flows one way (see `../shared/STYLE.md`): the pure core (`domain`, `plan`, `status::model`)
//! knows nothing of tokio, kube or the terminal; `app` turns messages into commands; `worker` runs
//! commands against a backend (the embedded demo cluster here, a real cluster later); `tui` draws.

pub mod app;
pub mod backend;
pub mod cli;
pub mod demo;
pub mod doctor;
pub mod domain;
pub mod headless;
pub mod kube;
pub mod plan;
pub mod run;
pub mod runs;
pub mod status;
pub mod tui;
pub mod worker;

/// Assert an insta snapshot stored in the top-level `snapshots/` folder, named `$name`
/// (names are global: prefix them with the area, e.g. `plan_demo_v1`). Only for tests.
#[macro_export]
macro_rules! assert_snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

//! One file per screen; each draws from `&App` only.

pub mod apply;
pub mod detect;
pub mod peering;
pub mod pool;
pub mod preview;
pub mod reflectors;
pub mod status;

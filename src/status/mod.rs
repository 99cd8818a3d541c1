//! BGP session status: the rows of the peer table, whatever source they come from (the demo's
//! simulation, BIRD's control socket, CalicoNodeStatus objects, `birdcl` through pods/exec).

pub mod bird;
pub mod exec;
pub mod local;
pub mod model;
pub mod reason;
pub mod table;

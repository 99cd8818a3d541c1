//! BGP session status: the rows of the peer table, whatever source they come from (the demo's
//! simulation here; BIRD sockets and CalicoNodeStatus objects later).

pub mod model;
pub mod table;

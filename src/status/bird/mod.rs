//! BIRD's control socket: the reply framing, `show protocols` and `show route` parsers (pure, in
//! `reply`, `protocols` and `routes`), and the tokio client that talks to a socket (`client`). The only code that
//! talks to BIRD.

pub mod client;
pub mod protocols;
pub mod reply;
pub mod routes;

#[cfg(test)]
pub(crate) mod tests;

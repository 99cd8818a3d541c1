//! BIRD's control socket: the reply framing and `show protocols` parsers (pure, in `reply` and
//! `protocols`), and the tokio client that talks to a socket (`client`). The only code that
//! talks to BIRD.

pub mod client;
pub mod protocols;
pub mod reply;

#[cfg(test)]
pub(crate) mod tests;

//! The operator's world as plain data: AS numbers, cluster facts read from Kubernetes objects, the
//! operator's answers, and the rules that check them. No I/O here: everything is a pure function.

pub mod answers;
pub mod asn;
pub mod facts;
pub mod findings;
pub mod objects;
pub mod topology;
pub mod validate;

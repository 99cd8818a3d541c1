//! Backends. (Being written.)

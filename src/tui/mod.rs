//! The terminal. (Being written.)

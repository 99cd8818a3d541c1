//! The wizard state machine. (Being written.)

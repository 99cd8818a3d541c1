//! Command line. (Being written.)

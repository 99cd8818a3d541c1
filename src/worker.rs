//! Worker. (Being written.)

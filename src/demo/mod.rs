//! The embedded demo cluster. (Being written.)

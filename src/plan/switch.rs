//! The switch side of the peering, rendered for each vendor. (Being written.)

//! The plan as text: YAML of every object (v1 as stored, v3 as calicoctl shows it), line diffs
//! against the current objects, the step-by-step text, and the files `w` writes. (Being written.)

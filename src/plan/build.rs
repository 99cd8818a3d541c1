//! answers + facts → ordered steps. (Being written.)

use crate::domain::answers::ValidAnswers;
use crate::domain::facts::ClusterFacts;
use crate::domain::objects::ObjectSet;

use super::Plan;

/// Build the ordered plan. `objects` is the snapshot `facts` came from (for each change's `before`).
pub fn build_plan(_answers: &ValidAnswers, _facts: &ClusterFacts, _objects: &ObjectSet) -> Plan {
    todo!()
}

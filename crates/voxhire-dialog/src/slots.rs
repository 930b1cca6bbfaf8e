//! What the candidate said in answer to one question, slot by slot.

use std::collections::BTreeMap;

use voxhire_nlu::{Slot, SlotKind, SlotValue};

use crate::script::condition::normalize_skill;

/// The latest value of each slot; skills accumulate over the turns of a question
/// (a follow-up that brings up Kubernetes adds it to the skills already named).
#[derive(Debug, Clone, Default)]
pub struct SlotTable {
    slots: BTreeMap<SlotKind, Slot>,
}

impl SlotTable {
    pub fn get(&self, kind: SlotKind) -> Option<&Slot> {
        self.slots.get(&kind)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.slots.values()
    }

    /// Records a slot; a later value replaces an earlier one except for skills,
    /// which merge (the evidence then spans both quotes).
    pub fn insert(&mut self, slot: Slot) {
        match (self.slots.get_mut(&slot.kind), &slot.value) {
            (Some(old), SlotValue::Skills { skills: new }) => {
                if let SlotValue::Skills { skills } = &mut old.value {
                    for s in new {
                        let n = normalize_skill(s);
                        if !skills.iter().any(|k| normalize_skill(k) == n) {
                            skills.push(s.clone());
                        }
                    }
                    old.evidence.quote =
                        format!("{} / {}", old.evidence.quote, slot.evidence.quote);
                    old.evidence.end_ms = slot.evidence.end_ms;
                    old.confidence = old.confidence.min(slot.confidence);
                } else {
                    *old = slot;
                }
            }
            _ => {
                self.slots.insert(slot.kind, slot);
            }
        }
    }

    /// Whether the candidate named this skill (ids compared normalised).
    pub fn has_skill(&self, id: &str) -> bool {
        let id = normalize_skill(id);
        match self.get(SlotKind::Skills).map(|s| &s.value) {
            Some(SlotValue::Skills { skills }) => skills.iter().any(|s| normalize_skill(s) == id),
            _ => false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

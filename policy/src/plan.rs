//! The redaction plan a decision carries: which spans to rewrite, and how.
//!
//! A plan names each entity once, in a small table, and its spans point into that table. A
//! request with twenty findings therefore builds and drops its plan without touching twenty
//! reference counts, and redaction resolves each entity's name once per plan, not per span.

use crate::document::Operator;
use serde::Serialize;
use std::sync::Arc;

/// One value to rewrite: where, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Redaction {
    pub segment: usize,
    pub start: usize,
    pub end: usize,
    /// Index into the plan's [`RedactionPlan::entities`].
    pub entity: usize,
    pub operator: Operator,
    pub keep_last: usize,
}

/// The rewrites of one decision.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RedactionPlan {
    /// Every entity the spans name, each once.
    pub entities: Vec<Arc<str>>,
    /// In the order the policy produced them; redaction sorts and merges per text.
    pub spans: Vec<Redaction>,
}

impl RedactionPlan {
    /// A plan with room for `spans` spans, so building it does not reallocate.
    pub fn with_capacity(spans: usize) -> Self {
        RedactionPlan {
            entities: Vec::with_capacity(4),
            spans: Vec::with_capacity(spans),
        }
    }

    /// The index of `entity` in the table, added on first sight. Findings of one pattern rule
    /// share one `Arc`, so the address usually answers before any text is compared.
    fn entity_index(&mut self, entity: &Arc<str>) -> usize {
        let found = self.entities.iter().position(|e| Arc::ptr_eq(e, entity));
        if let Some(i) = found.or_else(|| self.entities.iter().position(|e| **e == **entity)) {
            return i;
        }
        self.entities.push(entity.clone());
        self.entities.len() - 1
    }

    /// Adds the span `range` of text `segment`, a value of `entity`.
    pub fn push(
        &mut self,
        segment: usize,
        range: std::ops::Range<usize>,
        entity: &Arc<str>,
        operator: Operator,
        keep_last: usize,
    ) {
        let entity = self.entity_index(entity);
        self.spans.push(Redaction {
            segment,
            start: range.start,
            end: range.end,
            entity,
            operator,
            keep_last,
        });
    }

    /// Whether there is nothing to rewrite.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Drops every span (and the entities with them).
    pub fn clear(&mut self) {
        self.spans.clear();
        self.entities.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_are_kept_once_whatever_their_allocation() {
        let email: Arc<str> = "email".into();
        let other_email: Arc<str> = "email".into();
        let card: Arc<str> = "credit_card".into();
        let mut plan = RedactionPlan::default();
        plan.push(0, 0..1, &email, Operator::Mask, 0);
        plan.push(0, 2..3, &card, Operator::Mask, 0);
        plan.push(1, 0..1, &other_email, Operator::Pseudonym, 0);
        assert_eq!(plan.entities.len(), 2);
        assert_eq!(
            plan.spans
                .iter()
                .map(|r| &*plan.entities[r.entity])
                .collect::<Vec<_>>(),
            ["email", "credit_card", "email"]
        );
        plan.clear();
        assert!(plan.is_empty() && plan.entities.is_empty());
    }
}

//! The courier's task table.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::model::{CourierTaskView, NewTask, StatusChange, Task, TaskStatus};

#[derive(Debug)]
struct TaskRecord {
    task: Task,
    idempotency_key: Option<String>,
}

/// Tasks in creation order, with indexes for every lookup the API offers.
#[derive(Debug, Default)]
pub(crate) struct TaskStore {
    records: Vec<TaskRecord>,
    by_id: HashMap<String, usize>,
    by_tracking_number: HashMap<String, usize>,
    by_idempotency_key: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AdvanceError {
    #[error("no task with id {0}")]
    NotFound(String),
    #[error("task {0} is already delivered; there is no next status")]
    AlreadyDelivered(String),
}

impl TaskStore {
    pub(crate) fn by_idempotency_key(&self, key: &str) -> Option<&Task> {
        self.by_idempotency_key
            .get(key)
            .map(|&index| &self.records[index].task)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Task> {
        self.by_id.get(id).map(|&index| &self.records[index].task)
    }

    pub(crate) fn by_tracking_number(&self, number: &str) -> Option<&Task> {
        self.by_tracking_number
            .get(number)
            .map(|&index| &self.records[index].task)
    }

    /// Oldest first. A linear scan: the sandbox holds at most a few thousand tasks.
    pub(crate) fn with_reference(&self, reference: &str) -> Vec<Task> {
        self.records
            .iter()
            .filter(|record| record.task.reference == reference)
            .map(|record| record.task.clone())
            .collect()
    }

    /// Stores a new task. The caller has already checked `idempotency_key` is unused, under
    /// the same lock, which is what makes concurrent creates with one key yield one task.
    pub(crate) fn insert(
        &mut self,
        new: NewTask,
        idempotency_key: Option<String>,
        base_url: &str,
        now: OffsetDateTime,
    ) -> &Task {
        let tracking_number = self.unused_tracking_number();
        let task = Task {
            id: format!("tsk_{}", Uuid::new_v4().simple()),
            reference: new.reference,
            tracking_url: format!("{base_url}/track/{tracking_number}"),
            tracking_number,
            status: TaskStatus::Created,
            created_at: now,
            recipient: new.recipient,
            destination: new.destination,
            parcel: new.parcel,
            cash_on_delivery: new.cash_on_delivery,
            notes: new.notes,
            complete_after: new.complete_after,
            complete_before: new.complete_before,
            status_history: vec![StatusChange {
                status: TaskStatus::Created,
                at: now,
            }],
        };

        let index = self.records.len();
        self.by_id.insert(task.id.clone(), index);
        self.by_tracking_number
            .insert(task.tracking_number.clone(), index);
        if let Some(key) = &idempotency_key {
            self.by_idempotency_key.insert(key.clone(), index);
        }
        self.records.push(TaskRecord {
            task,
            idempotency_key,
        });
        &self.records[index].task
    }

    /// Moves the task one step along its delivery and records the change.
    pub(crate) fn advance(&mut self, id: &str, now: OffsetDateTime) -> Result<&Task, AdvanceError> {
        let index = *self
            .by_id
            .get(id)
            .ok_or_else(|| AdvanceError::NotFound(id.to_owned()))?;
        let task = &mut self.records[index].task;
        let next = task
            .status
            .next()
            .ok_or_else(|| AdvanceError::AlreadyDelivered(id.to_owned()))?;
        task.status = next;
        task.status_history.push(StatusChange {
            status: next,
            at: now,
        });
        Ok(task)
    }

    pub(crate) fn views(&self) -> Vec<CourierTaskView> {
        self.records
            .iter()
            .map(|record| record.task.view(record.idempotency_key.as_deref()))
            .collect()
    }

    fn unused_tracking_number(&self) -> String {
        loop {
            let candidate = tracking_number();
            if !self.by_tracking_number.contains_key(&candidate) {
                return candidate;
            }
        }
    }
}

/// `SBX` followed by 10 random upper-case alphanumerics.
fn tracking_number() -> String {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // The low 62 bits of a v4 UUID are random (the variant bits sit just above them).
    // 2^62 is ~1300 times 36^10, so the modulo bias is negligible.
    let mut random = Uuid::new_v4().as_u128() as u64 & ((1 << 62) - 1);
    let mut number = String::with_capacity(13);
    number.push_str("SBX");
    for _ in 0..10 {
        number.push(char::from(ALPHABET[(random % 36) as usize]));
        random /= 36;
    }
    number
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::courier::model::{Destination, Parcel, Recipient};

    fn new_task(reference: &str) -> NewTask {
        NewTask {
            reference: reference.to_owned(),
            recipient: Recipient {
                name: "Steve Shipper".into(),
                phone: "+14155550100".into(),
                email: None,
            },
            destination: Destination {
                line1: "123 Shipping Street".into(),
                line2: None,
                city: "Shippington".into(),
                region: None,
                postal_code: None,
                country_code: "US".into(),
                latitude: None,
                longitude: None,
            },
            parcel: Parcel {
                pieces: 1,
                weight_grams: None,
            },
            cash_on_delivery: None,
            notes: None,
            complete_after: None,
            complete_before: None,
        }
    }

    #[test]
    fn tracking_numbers_have_the_documented_shape() {
        for _ in 0..1000 {
            let number = tracking_number();
            assert_eq!(number.len(), 13, "{number}");
            assert!(number.starts_with("SBX"), "{number}");
            assert!(
                number[3..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
                "{number}"
            );
        }
    }

    #[test]
    fn insert_indexes_every_lookup() {
        let mut store = TaskStore::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let task = store
            .insert(new_task("ref-1"), Some("key-1".into()), "http://x", now)
            .clone();
        assert!(task.id.starts_with("tsk_"));
        assert_eq!(
            task.tracking_url,
            format!("http://x/track/{}", task.tracking_number)
        );
        assert_eq!(store.get(&task.id).map(|t| &t.id), Some(&task.id));
        assert_eq!(
            store
                .by_tracking_number(&task.tracking_number)
                .map(|t| &t.id),
            Some(&task.id)
        );
        assert_eq!(
            store.by_idempotency_key("key-1").map(|t| &t.id),
            Some(&task.id)
        );
        assert_eq!(store.with_reference("ref-1").len(), 1);
        assert!(store.with_reference("ref-2").is_empty());
    }

    #[test]
    fn advance_stops_at_delivered() {
        let mut store = TaskStore::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let id = store
            .insert(new_task("r"), None, "http://x", now)
            .id
            .clone();
        for _ in 0..4 {
            assert!(store.advance(&id, now).is_ok());
        }
        assert_eq!(
            store.advance(&id, now).err(),
            Some(AdvanceError::AlreadyDelivered(id.clone()))
        );
        assert_eq!(
            store.advance("tsk_nope", now).err(),
            Some(AdvanceError::NotFound("tsk_nope".into()))
        );
        assert_eq!(store.views()[0].status_history.len(), 5);
    }
}

//! The courier's task table.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::model::{
    CourierTaskView, DriverReport, NewTask, StatusChange, Task, TaskStatus, TaskUpdate,
};

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
    /// How many tasks were assigned from the roster: the next one goes to the next driver.
    assigned_from_roster: usize,
}

/// The simulated drivers; tasks are assigned to them in turn unless the advance names one.
pub(crate) const DRIVER_ROSTER: [&str; 3] = ["drv_01", "drv_02", "drv_03"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AdvanceError {
    #[error("no task with id {0}")]
    NotFound(String),
    #[error("task {id} is {}; there is no next status", .status.as_str())]
    Final { id: String, status: TaskStatus },
    #[error("task {id} is {}; only a task out for delivery can fail", .status.as_str())]
    CannotFail { id: String, status: TaskStatus },
    #[error("cod_collected_minor is only reported on the step to delivered (task {id} is {})", .status.as_str())]
    CodNotDelivering { id: String, status: TaskStatus },
    #[error("task {0} has no cash on delivery; cod_collected_minor does not apply")]
    NoCashOnDelivery(String),
    #[error("driver_id is only given on the step to assigned (task {id} is {})", .status.as_str())]
    DriverNotAssigning { id: String, status: TaskStatus },
}

/// Why a task refuses an update or a cancellation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ChangeError {
    #[error("no task with id {0}")]
    NotFound(String),
    #[error("task {0} is cancelled; it can no longer be changed")]
    Cancelled(String),
    #[error("task {id} is {}: the parcel is past pickup and the delivery can no longer be changed or cancelled", .status.as_str())]
    InProgress { id: String, status: TaskStatus },
    #[error("reference {sent:?} is not the reference of task {id}")]
    ReferenceMismatch { id: String, sent: String },
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

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Task> {
        let index = *self.by_id.get(id)?;
        Some(&mut self.records[index].task)
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
            driver_id: None,
            created_at: now,
            delivery: new.delivery,
            updates: 0,
            status_history: vec![StatusChange {
                status: TaskStatus::Created,
                at: now,
            }],
            failure: None,
            cod_collected_minor: None,
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
    #[cfg(test)]
    pub(crate) fn advance(&mut self, id: &str, now: OffsetDateTime) -> Result<&Task, AdvanceError> {
        self.advance_with(id, DriverReport::default(), now)
    }

    /// Moves the task one step along its delivery, or to `failed` if `report` says the
    /// attempt failed, and records the change. Nothing changes on an error.
    pub(crate) fn advance_with(
        &mut self,
        id: &str,
        report: DriverReport,
        now: OffsetDateTime,
    ) -> Result<&Task, AdvanceError> {
        let roster_driver = DRIVER_ROSTER[self.assigned_from_roster % DRIVER_ROSTER.len()];
        let task = self
            .get_mut(id)
            .ok_or_else(|| AdvanceError::NotFound(id.to_owned()))?;
        let status = task.status;
        let next = if report.failure.is_some() {
            match status {
                TaskStatus::OutForDelivery => TaskStatus::Failed,
                TaskStatus::Delivered | TaskStatus::Returned | TaskStatus::Cancelled => {
                    return Err(AdvanceError::Final {
                        id: id.to_owned(),
                        status,
                    })
                }
                _ => {
                    return Err(AdvanceError::CannotFail {
                        id: id.to_owned(),
                        status,
                    })
                }
            }
        } else {
            status.next().ok_or_else(|| AdvanceError::Final {
                id: id.to_owned(),
                status,
            })?
        };
        if report.cod_collected_minor.is_some() {
            if next != TaskStatus::Delivered {
                return Err(AdvanceError::CodNotDelivering {
                    id: id.to_owned(),
                    status,
                });
            }
            if task.delivery.cash_on_delivery.is_none() {
                return Err(AdvanceError::NoCashOnDelivery(id.to_owned()));
            }
        }

        if report.driver_id.is_some() && next != TaskStatus::Assigned {
            return Err(AdvanceError::DriverNotAssigning {
                id: id.to_owned(),
                status,
            });
        }
        let mut from_roster = false;
        if next == TaskStatus::Assigned {
            task.driver_id = Some(report.driver_id.unwrap_or_else(|| {
                from_roster = true;
                roster_driver.to_owned()
            }));
        }
        if next == TaskStatus::Delivered {
            task.cod_collected_minor = report.cod_collected_minor.or_else(|| {
                task.delivery
                    .cash_on_delivery
                    .as_ref()
                    .map(|cod| cod.amount_minor)
            });
        }
        if let Some(failure) = report.failure {
            task.failure = Some(failure);
        }
        task.status = next;
        task.status_history.push(StatusChange {
            status: next,
            at: now,
        });
        if from_roster {
            self.assigned_from_roster += 1;
        }
        self.get(id)
            .ok_or_else(|| AdvanceError::NotFound(id.to_owned()))
    }

    /// Why the task at `id` cannot be changed at all, if it cannot: the answer an update
    /// gets before its body is even looked at, since fixing the body would not help.
    pub(crate) fn check_changeable(&self, id: &str) -> Result<&Task, ChangeError> {
        let task = self
            .get(id)
            .ok_or_else(|| ChangeError::NotFound(id.to_owned()))?;
        match task.status {
            TaskStatus::Cancelled => Err(ChangeError::Cancelled(id.to_owned())),
            status if status.is_past_pickup() => Err(ChangeError::InProgress {
                id: id.to_owned(),
                status,
            }),
            _ => Ok(task),
        }
    }

    /// Replaces the task's delivery details.
    ///
    /// An update that changes nothing succeeds in any status but `cancelled`, and is not
    /// counted: a retried update that already went through must not turn into a conflict
    /// because the driver has since picked the parcel up.
    pub(crate) fn update(&mut self, id: &str, update: TaskUpdate) -> Result<&Task, ChangeError> {
        let task = self
            .get_mut(id)
            .ok_or_else(|| ChangeError::NotFound(id.to_owned()))?;
        if task.status == TaskStatus::Cancelled {
            return Err(ChangeError::Cancelled(id.to_owned()));
        }
        let reference_matches = update
            .reference
            .as_deref()
            .is_none_or(|sent| sent == task.reference);
        if reference_matches && task.delivery == update.delivery {
            return Ok(task);
        }
        if task.status.is_past_pickup() {
            return Err(ChangeError::InProgress {
                id: id.to_owned(),
                status: task.status,
            });
        }
        if let Some(sent) = update.reference.filter(|_| !reference_matches) {
            return Err(ChangeError::ReferenceMismatch {
                id: id.to_owned(),
                sent,
            });
        }
        task.delivery = update.delivery;
        task.updates += 1;
        Ok(task)
    }

    /// Calls the delivery off. Cancelling a cancelled task changes nothing and succeeds, so
    /// that a retried cancellation gets the same answer as the first.
    pub(crate) fn cancel(&mut self, id: &str, now: OffsetDateTime) -> Result<&Task, ChangeError> {
        let task = self
            .get_mut(id)
            .ok_or_else(|| ChangeError::NotFound(id.to_owned()))?;
        match task.status {
            TaskStatus::Cancelled => {}
            status if status.is_past_pickup() => {
                return Err(ChangeError::InProgress {
                    id: id.to_owned(),
                    status,
                })
            }
            _ => {
                task.status = TaskStatus::Cancelled;
                task.status_history.push(StatusChange {
                    status: TaskStatus::Cancelled,
                    at: now,
                });
            }
        }
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
    use crate::courier::model::{Delivery, Destination, Parcel, Recipient};

    fn new_task(reference: &str) -> NewTask {
        NewTask {
            reference: reference.to_owned(),
            delivery: Delivery {
                recipient: Recipient {
                    name: "Steve Shipper".into(),
                    phone: Some("+14155550100".into()),
                    email: None,
                    alternate_contact: None,
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
                service: None,
            },
        }
    }

    /// The delivery of `new_task` with other notes, addressed by `reference`.
    fn update(reference: Option<&str>, notes: &str) -> TaskUpdate {
        let mut delivery = new_task("r").delivery;
        delivery.notes = Some(notes.to_owned());
        TaskUpdate {
            reference: reference.map(str::to_owned),
            delivery,
        }
    }

    fn stored(store: &mut TaskStore) -> String {
        store
            .insert(new_task("r"), None, "http://x", OffsetDateTime::UNIX_EPOCH)
            .id
            .clone()
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
            Some(AdvanceError::Final {
                id: id.clone(),
                status: TaskStatus::Delivered
            })
        );
        assert_eq!(
            store.advance("tsk_nope", now).err(),
            Some(AdvanceError::NotFound("tsk_nope".into()))
        );
        assert_eq!(store.views()[0].status_history.len(), 5);
    }

    #[test]
    fn drivers_take_tasks_in_turn_unless_the_advance_names_one() {
        let mut store = TaskStore::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let ids: Vec<String> = (0..4)
            .map(|i| {
                store
                    .insert(new_task(&format!("r{i}")), None, "http://x", now)
                    .id
                    .clone()
            })
            .collect();
        let named = DriverReport {
            driver_id: Some("drv_09".into()),
            ..DriverReport::default()
        };
        store.advance(&ids[0], now).unwrap();
        store.advance_with(&ids[1], named.clone(), now).unwrap();
        store.advance(&ids[2], now).unwrap();
        store.advance(&ids[3], now).unwrap();
        let drivers: Vec<Option<String>> = ids
            .iter()
            .map(|id| store.get(id).unwrap().driver_id.clone())
            .collect();
        assert_eq!(
            drivers,
            [
                Some("drv_01"),
                Some("drv_09"),
                Some("drv_02"),
                Some("drv_03")
            ]
            .map(|d| d.map(str::to_owned))
        );
        // A driver is named on the step to assigned only.
        assert_eq!(
            store.advance_with(&ids[0], named, now).err(),
            Some(AdvanceError::DriverNotAssigning {
                id: ids[0].clone(),
                status: TaskStatus::Assigned
            })
        );
        assert_eq!(store.get(&ids[0]).unwrap().status, TaskStatus::Assigned);
    }

    #[test]
    fn a_failed_attempt_is_reported_out_for_delivery_and_returns_next() {
        use crate::courier::model::FailedAttempt;
        let mut store = TaskStore::default();
        let id = stored(&mut store);
        let now = OffsetDateTime::UNIX_EPOCH;
        let failed = || DriverReport {
            failure: Some(FailedAttempt {
                reason: "refused".into(),
                notes: None,
            }),
            cod_collected_minor: None,
            driver_id: None,
        };
        assert_eq!(
            store.advance_with(&id, failed(), now).err(),
            Some(AdvanceError::CannotFail {
                id: id.clone(),
                status: TaskStatus::Created
            })
        );
        for _ in 0..3 {
            store.advance(&id, now).unwrap();
        }
        let task = store.advance_with(&id, failed(), now).unwrap();
        assert_eq!(task.status, TaskStatus::Failed);
        assert_eq!(
            task.failure.as_ref().map(|f| f.reason.as_str()),
            Some("refused")
        );
        assert_eq!(
            store.advance(&id, now).unwrap().status,
            TaskStatus::Returned
        );
        assert_eq!(
            store.advance(&id, now).err(),
            Some(AdvanceError::Final {
                id: id.clone(),
                status: TaskStatus::Returned
            })
        );
        assert_eq!(
            store.cancel(&id, now).err(),
            Some(ChangeError::InProgress {
                id: id.clone(),
                status: TaskStatus::Returned
            })
        );
        assert_eq!(store.get(&id).unwrap().status_history.len(), 6);
    }

    #[test]
    fn the_collected_cash_is_recorded_on_the_step_to_delivered_only() {
        use crate::courier::model::Money;
        let mut store = TaskStore::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut with_cod = new_task("r");
        with_cod.delivery.cash_on_delivery = Some(Money {
            amount_minor: 5000,
            currency: "EUR".into(),
        });
        let id = store.insert(with_cod, None, "http://x", now).id.clone();
        let short = || DriverReport {
            failure: None,
            cod_collected_minor: Some(4000),
            driver_id: None,
        };
        assert_eq!(
            store.advance_with(&id, short(), now).err(),
            Some(AdvanceError::CodNotDelivering {
                id: id.clone(),
                status: TaskStatus::Created
            })
        );
        for _ in 0..3 {
            store.advance(&id, now).unwrap();
        }
        assert_eq!(
            store
                .advance_with(&id, short(), now)
                .unwrap()
                .cod_collected_minor,
            Some(4000)
        );

        let prepaid = stored(&mut store);
        for _ in 0..3 {
            store.advance(&prepaid, now).unwrap();
        }
        assert_eq!(
            store.advance_with(&prepaid, short(), now).err(),
            Some(AdvanceError::NoCashOnDelivery(prepaid.clone()))
        );
        // Without a report the full amount counts; without cash on delivery, none.
        assert_eq!(
            store.advance(&prepaid, now).unwrap().cod_collected_minor,
            None
        );
    }

    #[test]
    fn updates_before_pickup_replace_the_delivery_and_count_once() {
        let mut store = TaskStore::default();
        let id = stored(&mut store);
        let now = OffsetDateTime::UNIX_EPOCH;
        store.advance(&id, now).unwrap();

        let task = store.update(&id, update(Some("r"), "back door")).unwrap();
        assert_eq!(task.delivery.notes.as_deref(), Some("back door"));
        assert_eq!(task.updates, 1);
        // The same update again is a no-op, not a second update.
        assert_eq!(
            store
                .update(&id, update(None, "back door"))
                .unwrap()
                .updates,
            1
        );
        assert_eq!(
            store.update(&id, update(Some("other"), "x")).err(),
            Some(ChangeError::ReferenceMismatch {
                id: id.clone(),
                sent: "other".into()
            })
        );
        assert_eq!(
            store.update("tsk_nope", update(None, "x")).err(),
            Some(ChangeError::NotFound("tsk_nope".into()))
        );
    }

    #[test]
    fn after_pickup_only_a_repeated_update_succeeds() {
        let mut store = TaskStore::default();
        let id = stored(&mut store);
        let now = OffsetDateTime::UNIX_EPOCH;
        store.update(&id, update(None, "first")).unwrap();
        for _ in 0..2 {
            store.advance(&id, now).unwrap();
        }
        assert_eq!(
            store.update(&id, update(None, "second")).err(),
            Some(ChangeError::InProgress {
                id: id.clone(),
                status: TaskStatus::PickedUp
            })
        );
        assert_eq!(store.update(&id, update(None, "first")).unwrap().updates, 1);
        assert!(store.check_changeable(&id).is_err());
    }

    #[test]
    fn cancel_is_idempotent_before_pickup_and_refused_after() {
        let mut store = TaskStore::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let id = stored(&mut store);
        for _ in 0..2 {
            assert_eq!(
                store.cancel(&id, now).unwrap().status,
                TaskStatus::Cancelled
            );
        }
        assert_eq!(store.get(&id).unwrap().status_history.len(), 2);
        assert_eq!(
            store.update(&id, update(None, "x")).err(),
            Some(ChangeError::Cancelled(id.clone()))
        );
        assert_eq!(
            store.advance(&id, now).err(),
            Some(AdvanceError::Final {
                id: id.clone(),
                status: TaskStatus::Cancelled
            })
        );

        let picked_up = stored(&mut store);
        for _ in 0..2 {
            store.advance(&picked_up, now).unwrap();
        }
        assert_eq!(
            store.cancel(&picked_up, now).err(),
            Some(ChangeError::InProgress {
                id: picked_up.clone(),
                status: TaskStatus::PickedUp
            })
        );
    }
}

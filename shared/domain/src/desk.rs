//! The review desk: what a person does with an item of the inbox — correct its draft, send
//! it on, dismiss it. One implementation for every door: the CLI, the dispatcher's console
//! and the customer's fix-my-address page all call these, so a release from the console and
//! one from the CLI race exactly as two CLI releases do (one wins, the other is told).

use crate::clock::now_ms;
use crate::draft::FixError;
use crate::error::{Classify, Transience};
use crate::pipeline::{Admitted, Intake};
use crate::ports::{ReviewInbox, StorageError, StoreRules};
use crate::review::{review_id, DISMISSED, OPEN, RELEASED, SUPERSEDED};
use crate::{ReviewItem, ReviewReason, ShipmentDraft};

/// Why the desk refused, or what failed under it.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("no review item {0}")]
    NotFound(String),
    #[error("{id} is {status}, not open{}", resolution.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    NotOpen {
        id: String,
        status: String,
        resolution: Option<String>,
    },
    /// Items about a payload that could not be read, or a dispatcher's decision (cancelled
    /// after pickup), carry no shipment to correct.
    #[error("{action} does not apply to {id} ({kind}): it has no shipment draft; dismiss it once it is handled")]
    NoDraft {
        id: String,
        kind: String,
        action: &'static str,
    },
    #[error("the draft of {id} is not valid; the item stays open")]
    Invalid {
        id: String,
        reasons: Vec<ReviewReason>,
    },
    /// The shipment was admitted, but someone else (or a newer event) closed the item between
    /// this release's check and its close. The admit is idempotent, so nothing that matters
    /// was sent twice; the person should still know.
    #[error("{id} was closed meanwhile as {status}; this release had already admitted the shipment: {}", admitted.summary())]
    ClosedMeanwhile {
        id: String,
        status: String,
        resolution: Option<String>,
        admitted: Admitted,
    },
    #[error("cannot apply the fix: {0}")]
    Fix(#[from] FixError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Classify for DeskError {
    fn transience(&self) -> Transience {
        match self {
            DeskError::Storage(e) => e.transience(),
            // Every refusal stands until a person changes something.
            _ => Transience::Permanent,
        }
    }
}

/// What a fix left: the reasons still standing (none: ready to release).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fixed {
    pub id: String,
    pub reasons: Vec<ReviewReason>,
    pub note: String,
}

/// What a release did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Released {
    pub id: String,
    pub shipment_key: String,
    #[serde(skip)]
    pub admitted: Admitted,
    pub summary: &'static str,
    /// The status the item ended with: `released`, or `superseded` when an admit of this
    /// shipment closed it first (see [`Desk::release`]).
    pub closed_as: &'static str,
}

/// The inbox, the stores' rules (a fix is validated with the store's current configuration)
/// and the intake a released draft goes through.
#[derive(Clone, Copy)]
pub struct Desk<'a> {
    pub reviews: &'a dyn ReviewInbox,
    pub rules: &'a dyn StoreRules,
    pub intake: Intake<'a>,
}

impl<'a> Desk<'a> {
    /// The desk over these ports, its intake asking for tasks on `tasks`.
    pub fn over(
        reviews: &'a dyn ReviewInbox,
        rules: &'a dyn StoreRules,
        shipments: &'a dyn crate::ports::ShipmentStore,
        tasks: &'a dyn crate::ports::Queue<crate::messages::TaskRequested>,
    ) -> Desk<'a> {
        Desk {
            reviews,
            rules,
            intake: Intake {
                shipments,
                reviews,
                tasks,
            },
        }
    }
}

/// An item id as typed: the stored id ("review:shopify:acme:1001:1") or just its subject,
/// which is what operators copy from logs and the audit trail.
pub fn item_id(arg: &str) -> String {
    let arg = arg.trim();
    if arg.starts_with("review:") {
        arg.to_owned()
    } else {
        review_id(arg)
    }
}

/// One fix as a person types it, `PATH=VALUE` (split at the first `=`): a draft field path
/// and its new value (JSON, or else text).
pub fn parse_fix(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((path, value)) if !path.trim().is_empty() => {
            Ok((path.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "{text:?} is not PATH=VALUE (e.g. phone=+4930901820, address.postal_code=10119)"
        )),
    }
}

impl Desk<'_> {
    /// The open item `id`, or why it is not there to act on.
    pub async fn open_item(&self, id: &str) -> Result<ReviewItem, DeskError> {
        let id = item_id(id);
        match self.reviews.get(&id).await? {
            None => Err(DeskError::NotFound(id)),
            Some(item) if item.status != OPEN => Err(DeskError::NotOpen {
                id,
                status: item.status,
                resolution: item.resolution,
            }),
            Some(item) => Ok(item),
        }
    }

    /// Applies `fixes` (draft path, value) to the open item's draft, re-validates it with the
    /// store's current configuration and stores the draft with the reasons that remain. All
    /// fixes land in one conditional write (or none does), so an item released meanwhile is
    /// never edited. A fix goes through what a channel's draft does: its bidi controls are
    /// removed and each text field is held to its limit ([`crate::text`]; `too_long`
    /// otherwise), so no person's fix sends a driver what no channel could.
    pub async fn fix(
        &self,
        id: &str,
        fixes: &[(String, String)],
        by: &str,
    ) -> Result<Fixed, DeskError> {
        let item = self.open_item(id).await?;
        let mut draft = draft_of(&item, "fix")?;
        for (path, value) in fixes {
            draft.apply_fix(path, value)?;
        }
        draft.strip_bidi_controls();
        let config = self.rules.get(draft.channel, &draft.store).await?;
        let reasons = draft.validate(&config).err().unwrap_or_default();
        let note = format!(
            "{} (by {by})",
            fixes
                .iter()
                .map(|(path, value)| format!("{path}={value}"))
                .collect::<Vec<_>>()
                .join("; ")
        );
        // The console lists the fixes too.
        let note = crate::text::strip_bidi_controls(&note).into_owned();
        if !self.reviews.fix(&item.id, &draft, &reasons, &note).await? {
            return Err(self.not_open(&item.id).await);
        }
        Ok(Fixed {
            id: item.id,
            reasons,
            note,
        })
    }

    /// Sends a fixed draft on as a valid event would, and closes the item; the resolution
    /// reads "released by {by}: ...".
    ///
    /// Exactly once, by order of operations: the admit runs **before** the item is closed.
    /// An admit is safe to repeat (the shipment record is conditional, a repeat of our own
    /// admit is recognised by its source, and create-task creates at most one courier task
    /// per shipment key), so a crash, a timeout or a second person between the two steps at
    /// worst admits twice, harmlessly, and leaves the item open to be released again.
    /// Closing first would make a crash right after the close lose the order: the item would
    /// say released and no shipment would exist. The close is conditional on the item being
    /// open, so of two concurrent releases exactly one reports success.
    pub async fn release(&self, id: &str, by: &str) -> Result<Released, DeskError> {
        self.release_as(id, &format!("released by {by}")).await
    }

    /// [`Desk::release`] with the resolution's opening words given ("fixed by the customer").
    pub async fn release_as(&self, id: &str, resolved: &str) -> Result<Released, DeskError> {
        let item = self.open_item(id).await?;
        let draft = draft_of(&item, "release")?;
        let config = self.rules.get(draft.channel, &draft.store).await?;
        let shipment = draft
            .validate(&config)
            .map_err(|reasons| DeskError::Invalid {
                id: item.id.clone(),
                reasons,
            })?;
        // The payload behind the draft is the source of record; an item without one is its
        // own source, so that a repeated release is still recognised as the same admission.
        let source = item
            .source_inbound
            .clone()
            .unwrap_or_else(|| item.id.clone());
        // A release is the newest word on this shipment: its draft is the newest event's (a
        // newer invalid event replaces the item's draft; a newer valid one closes the item as
        // superseded), plus the fixes. So it is recorded as of now, and replaces a pending
        // record the courier refused (an address it could not place).
        let event_ms = now_ms().max(item.event_ms.unwrap_or(0) + 1);
        let admitted = self
            .intake
            .record_and_request(&shipment, event_ms, &source)
            .await?;
        let resolution = format!("{resolved}: {}", admitted.summary());
        let released = |closed_as| Released {
            id: item.id.clone(),
            shipment_key: shipment.key.to_string(),
            admitted,
            summary: admitted.summary(),
            closed_as,
        };
        if self.reviews.close(&item.id, RELEASED, &resolution).await? {
            return Ok(released(RELEASED));
        }
        // Someone closed it between our check and our close. If it was closed as superseded
        // after this admit sent the shipment on, that was an admit of this shipment (this
        // one: an admit closes the shipment's open review; or a newer event's right after
        // it): the release did happen, and the item just carries the other label.
        let (status, resolution) = match self.reviews.get(&item.id).await? {
            Some(now) => (now.status, now.resolution),
            None => ("deleted".to_owned(), None),
        };
        let admit_closed_it = matches!(
            admitted,
            Admitted::TaskRequested | Admitted::UpdateRequested
        ) && item.id == review_id(&shipment.key.to_string())
            && status == SUPERSEDED;
        if admit_closed_it {
            return Ok(released(SUPERSEDED));
        }
        Err(DeskError::ClosedMeanwhile {
            id: item.id,
            status,
            resolution,
            admitted,
        })
    }

    /// Closes an open item without sending anything on; returns its id.
    pub async fn dismiss(&self, id: &str, reason: &str, by: &str) -> Result<String, DeskError> {
        let id = item_id(id);
        let resolution = format!("dismissed by {by}: {reason}");
        if !self.reviews.close(&id, DISMISSED, &resolution).await? {
            return Err(self.not_open(&id).await);
        }
        Ok(id)
    }

    /// Why a conditional write on an item found it not open (closed meanwhile, or absent).
    async fn not_open(&self, id: &str) -> DeskError {
        match self.reviews.get(id).await {
            Ok(Some(item)) => DeskError::NotOpen {
                id: id.to_owned(),
                status: item.status,
                resolution: item.resolution,
            },
            Ok(None) => DeskError::NotFound(id.to_owned()),
            Err(error) => DeskError::Storage(error),
        }
    }
}

fn draft_of(item: &ReviewItem, action: &'static str) -> Result<ShipmentDraft, DeskError> {
    item.draft.clone().ok_or_else(|| DeskError::NoDraft {
        id: item.id.clone(),
        kind: item.kind.clone(),
        action,
    })
}

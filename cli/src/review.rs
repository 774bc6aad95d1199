//! `courier-bridge review`: the error inbox. Every operation goes through the library the
//! functions use ([`ReviewStore`](domain::aws::reviews::ReviewStore),
//! [`ShipmentDraft::validate`], [`pipeline::admit`]), so a fixed and released order is
//! validated and admitted exactly as a channel event would be.

use crate::error::CliError;
use crate::render::{event_time, Table};
use aws::stack::StackStores;
use domain::audit::InboundRecord;
use domain::clock::now_ms as event_ms_now;
use domain::pipeline::Admitted;
use domain::ports::{AuditTrail, ReviewInbox, StoreRules};
use domain::review::{review_id, DISMISSED, OPEN, RELEASED, SUPERSEDED};
use domain::ReviewItem;
use domain::{ReviewReason, ShipmentDraft};
use serde::Serialize;
use std::fmt::Write;
use std::str::FromStr;

/// Which items `review list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum StatusFilter {
    #[default]
    Open,
    Released,
    Dismissed,
    Superseded,
    All,
}

impl StatusFilter {
    fn admits(self, status: &str) -> bool {
        match self {
            StatusFilter::Open => status == OPEN,
            StatusFilter::Released => status == RELEASED,
            StatusFilter::Dismissed => status == DISMISSED,
            StatusFilter::Superseded => status == SUPERSEDED,
            StatusFilter::All => true,
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

/// The items with the given status, oldest first (the inbox is small: a scan).
pub async fn list(stores: &StackStores, filter: StatusFilter) -> Result<Vec<ReviewItem>, CliError> {
    let mut items: Vec<ReviewItem> = stores
        .reviews
        .all()
        .await?
        .into_iter()
        .filter(|item| filter.admits(&item.status))
        .collect();
    items.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(items)
}

pub fn render_list(items: &[ReviewItem]) -> String {
    if items.is_empty() {
        return "no review items".to_owned();
    }
    let mut table = Table::new(["ID", "KIND", "STATUS", "REASONS", "SEEN", "CREATED"]);
    for item in items {
        table.row([
            item.id.clone(),
            item.kind.clone(),
            item.status.clone(),
            item.reasons
                .iter()
                .map(ReviewReason::code)
                .collect::<Vec<_>>()
                .join(","),
            item.occurrences.to_string(),
            item.created_at.clone(),
        ]);
    }
    table.render()
}

/// An item with the audit-trail record of the payload behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub item: ReviewItem,
    pub source: Option<InboundRecord>,
}

pub async fn show(stores: &StackStores, id: &str) -> Result<Shown, CliError> {
    let id = item_id(id);
    let item = stores
        .reviews
        .get(&id)
        .await?
        .ok_or(CliError::NotFound(id))?;
    let source = match &item.source_inbound {
        Some(source) => stores.inbound.get(source).await?,
        None => None,
    };
    Ok(Shown { item, source })
}

pub fn render_show(shown: &Shown) -> Result<String, CliError> {
    let item = &shown.item;
    let mut out = format!("{}\n", item.id);
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(out, "  {name:<14}{value}");
    };
    field("kind", &item.kind);
    field("status", &item.status);
    if let Some(resolution) = &item.resolution {
        field("resolution", resolution);
    }
    field("created", &item.created_at);
    field("occurrences", &item.occurrences.to_string());
    if let Some(key) = &item.order_key {
        field("order", key);
    }
    if let Some(key) = &item.shipment_key {
        field("shipment", key);
    }
    if let Some(ms) = item.event_ms {
        field("event time", &event_time(ms));
    }
    if let Some(source) = &item.source_inbound {
        field("source", source);
    }
    if let Some(record) = &shown.source {
        let mut summary = format!(
            "{} {} received {} ({})",
            record.channel,
            record.topic,
            record.received_at,
            record.state.as_str()
        );
        if let Some(outcome) = &record.outcome {
            let _ = write!(summary, ": {outcome}");
        }
        field("payload", &summary);
    }
    if item.reasons.is_empty() {
        out.push_str("reasons: none\n");
    } else {
        out.push_str("reasons:\n");
    }
    for reason in &item.reasons {
        let _ = writeln!(out, "  - {}", describe(reason));
    }
    if !item.fixes.is_empty() {
        out.push_str("fixes:\n");
        for fix in &item.fixes {
            let _ = writeln!(out, "  - {fix}");
        }
    }
    match &item.draft {
        Some(draft) => {
            let text = serde_json::to_string_pretty(draft).map_err(|e| CliError::Input {
                what: format!("draft of {}", item.id),
                error: e.to_string(),
            })?;
            let _ = write!(out, "draft:\n{text}");
        }
        None => out.push_str("draft: none (fix and release do not apply; dismiss when handled)"),
    }
    Ok(out)
}

/// A reason as an operator needs it: its one-line text and the values behind it (the
/// Display of a reason deliberately leaves values out, as it is also what logs show).
pub fn describe(reason: &ReviewReason) -> String {
    let mut text = reason.to_string();
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(reason) {
        let details: Vec<String> = fields
            .iter()
            .filter(|(name, _)| name.as_str() != "code")
            .map(|(name, value)| format!("{name}: {value}"))
            .collect();
        if !details.is_empty() {
            let _ = write!(text, " ({})", details.join(", "));
        }
    }
    text
}

/// One `--set PATH=VALUE`: a draft field path and its new value (JSON, or else text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFix {
    pub path: String,
    pub value: String,
}

impl FromStr for FieldFix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            Some((path, value)) if !path.trim().is_empty() => Ok(FieldFix {
                path: path.trim().to_owned(),
                value: value.to_owned(),
            }),
            _ => Err(format!(
                "{s:?} is not PATH=VALUE (e.g. phone=+4930901820, address.postal_code=10119)"
            )),
        }
    }
}

impl std::fmt::Display for FieldFix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// What a fix left: the reasons still standing (none: ready to release).
#[derive(Debug, Clone, Serialize)]
pub struct Fixed {
    pub id: String,
    pub reasons: Vec<ReviewReason>,
    pub note: String,
}

/// Applies the fixes to the open item's draft, re-validates it with the store's current
/// configuration and stores the draft with the reasons that remain. All fixes land in one
/// conditional write (or none does), so an item released meanwhile is never edited.
pub async fn fix(
    stores: &StackStores,
    id: &str,
    fixes: &[FieldFix],
    by: &str,
) -> Result<Fixed, CliError> {
    let item = open_item(stores, id).await?;
    let mut draft = draft_of(&item, "fix")?;
    for fix in fixes {
        draft.apply_fix(&fix.path, &fix.value)?;
    }
    let config = stores.stores.get(draft.channel, &draft.store).await?;
    let reasons = draft.validate(&config).err().unwrap_or_default();
    let note = format!(
        "{} (by {by})",
        fixes
            .iter()
            .map(FieldFix::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    );
    if !stores
        .reviews
        .fix(&item.id, &draft, &reasons, &note)
        .await?
    {
        return Err(not_open(stores, &item.id).await);
    }
    Ok(Fixed {
        id: item.id,
        reasons,
        note,
    })
}

pub fn render_fixed(fixed: &Fixed) -> String {
    if fixed.reasons.is_empty() {
        return format!("{}: {}\nvalid: ready to release", fixed.id, fixed.note);
    }
    let mut out = format!("{}: {}\nstill invalid:", fixed.id, fixed.note);
    for reason in &fixed.reasons {
        let _ = write!(out, "\n  - {}", describe(reason));
    }
    out
}

/// What a release did.
#[derive(Debug, Clone, Serialize)]
pub struct Released {
    pub id: String,
    pub shipment_key: String,
    #[serde(skip)]
    pub admitted: Admitted,
    pub summary: &'static str,
    /// The status the item ended with: `released`, or `superseded` when an admit of this
    /// shipment closed it first (see [`release`]).
    pub closed_as: &'static str,
}

/// Sends a fixed draft on as a valid event would, and closes the item.
///
/// Exactly once, by order of operations: [`pipeline::admit`] runs **before** the item is
/// closed. admit is safe to repeat (the shipment record is conditional, a repeat of our own
/// admit is recognised by its source, and create-task creates at most one courier task per
/// shipment key), so a crash, a timeout or a second operator between the two steps at worst
/// admits twice, harmlessly, and leaves the item open to be released again. Closing first
/// would make a crash right after the close lose the order: the item would say released and
/// no shipment would exist. The close is conditional on the item being open, so of two
/// concurrent releases exactly one reports success.
pub async fn release(stores: &StackStores, id: &str, by: &str) -> Result<Released, CliError> {
    let item = open_item(stores, id).await?;
    let draft = draft_of(&item, "release")?;
    let config = stores.stores.get(draft.channel, &draft.store).await?;
    let shipment = draft
        .validate(&config)
        .map_err(|reasons| CliError::Invalid {
            id: item.id.clone(),
            reasons,
        })?;
    // The payload behind the draft is the source of record; an item without one is its own
    // source, so that a repeated release is still recognised as the same admission.
    let source = item
        .source_inbound
        .clone()
        .unwrap_or_else(|| item.id.clone());
    // The operator's release is the newest word on this shipment: its draft is the newest
    // event's (a newer invalid event replaces the item's draft; a newer valid one closes the
    // item as superseded), plus the fixes. So it is recorded as of now, and replaces a
    // pending record the courier refused (an address it could not place).
    let event_ms = event_ms_now().max(item.event_ms.unwrap_or(0) + 1);
    let admitted = stores
        .intake()
        .record_and_request(&shipment, event_ms, &source)
        .await?;
    let resolution = format!("released by {by}: {}", admitted.summary());
    let released = |closed_as| Released {
        id: item.id.clone(),
        shipment_key: shipment.key.to_string(),
        admitted,
        summary: admitted.summary(),
        closed_as,
    };
    if stores
        .reviews
        .close(&item.id, RELEASED, &resolution)
        .await?
    {
        return Ok(released(RELEASED));
    }
    // Someone closed it between our check and our close. If it was closed as superseded
    // after this admit sent the shipment on, that was an admit of this shipment (this one:
    // `pipeline::admit` closes the shipment's open review; or a newer event's right after
    // it): the release did happen, and the item just carries the other label.
    let now = stores.reviews.get(&item.id).await?;
    let (status, resolution) = match now {
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
    Err(CliError::ClosedMeanwhile {
        id: item.id,
        status,
        resolution,
        admitted,
    })
}

pub fn render_released(released: &Released) -> String {
    let mut out = format!(
        "released {} ({}): {}",
        released.id, released.shipment_key, released.summary
    );
    if released.closed_as != RELEASED {
        let _ = write!(out, "\nthe item was closed as {}", released.closed_as);
    }
    out
}

/// Closes an open item without sending anything on.
pub async fn dismiss(
    stores: &StackStores,
    id: &str,
    reason: &str,
    by: &str,
) -> Result<String, CliError> {
    let id = item_id(id);
    let resolution = format!("dismissed by {by}: {reason}");
    if !stores.reviews.close(&id, DISMISSED, &resolution).await? {
        return Err(not_open(stores, &id).await);
    }
    Ok(id)
}

async fn open_item(stores: &StackStores, id: &str) -> Result<ReviewItem, CliError> {
    let id = item_id(id);
    match stores.reviews.get(&id).await? {
        None => Err(CliError::NotFound(id)),
        Some(item) if item.status != OPEN => Err(CliError::NotOpen {
            id,
            status: item.status,
            resolution: item.resolution,
        }),
        Some(item) => Ok(item),
    }
}

fn draft_of(item: &ReviewItem, action: &'static str) -> Result<ShipmentDraft, CliError> {
    item.draft.clone().ok_or_else(|| CliError::NoDraft {
        id: item.id.clone(),
        kind: item.kind.clone(),
        action,
    })
}

/// Why a conditional write on an item found it not open (closed meanwhile, or absent).
async fn not_open(stores: &StackStores, id: &str) -> CliError {
    match stores.reviews.get(id).await {
        Ok(Some(item)) => CliError::NotOpen {
            id: id.to_owned(),
            status: item.status,
            resolution: item.resolution,
        },
        Ok(None) => CliError::NotFound(id.to_owned()),
        Err(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_taken_with_or_without_their_prefix() {
        assert_eq!(item_id("shopify:acme:1:1"), "review:shopify:acme:1:1");
        assert_eq!(
            item_id(" review:shopify:acme:1:1 "),
            "review:shopify:acme:1:1"
        );
    }

    #[test]
    fn a_fix_is_split_at_its_first_equals_sign() {
        let fix: FieldFix = "notes.text=ring twice = loud".parse().unwrap();
        assert_eq!(fix.path, "notes.text");
        assert_eq!(fix.value, "ring twice = loud");
        assert!("phone".parse::<FieldFix>().is_err());
        assert!("=1".parse::<FieldFix>().is_err());
        let empty: FieldFix = "company=".parse().unwrap();
        assert_eq!(empty.value, "");
    }

    #[test]
    fn a_reason_is_described_with_its_values() {
        let text = describe(&ReviewReason::InvalidPhone { value: "12".into() });
        assert_eq!(text, r#"invalid phone (value: "12")"#);
        assert_eq!(describe(&ReviewReason::MissingPhone), "missing phone");
    }
}

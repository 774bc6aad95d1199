//! `courier-bridge review`: the error inbox. Every operation is the review desk's
//! ([`Desk`](domain::desk::Desk), in the domain), which the dispatcher's console and the
//! customer's pages call too: a fixed and released order is validated and admitted exactly
//! as a channel event would be, whichever door it came through.

use crate::error::CliError;
use crate::render::{event_time, Table};
use aws::stack::StackStores;
use domain::audit::InboundRecord;
use domain::ports::{AuditTrail, ReviewInbox};
use domain::review::{DISMISSED, OPEN, RELEASED, SUPERSEDED};
use domain::ReviewItem;
use domain::ReviewReason;
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

pub use domain::desk::{item_id, Fixed, Released};

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
    reason.described()
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
        let (path, value) = domain::desk::parse_fix(s)?;
        Ok(FieldFix { path, value })
    }
}

impl std::fmt::Display for FieldFix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// Applies the fixes to the open item's draft and re-validates it:
/// [`Desk::fix`](domain::desk::Desk::fix).
pub async fn fix(
    stores: &StackStores,
    id: &str,
    fixes: &[FieldFix],
    by: &str,
) -> Result<Fixed, CliError> {
    let fixes: Vec<(String, String)> = fixes
        .iter()
        .map(|fix| (fix.path.clone(), fix.value.clone()))
        .collect();
    Ok(stores.desk().fix(id, &fixes, by).await?)
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

/// Sends a fixed draft on as a valid event would, and closes the item:
/// [`Desk::release`](domain::desk::Desk::release), which says why this is exactly once.
pub async fn release(stores: &StackStores, id: &str, by: &str) -> Result<Released, CliError> {
    Ok(stores.desk().release(id, by).await?)
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
    Ok(stores.desk().dismiss(id, reason, by).await?)
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
        let text = describe(&ReviewReason::TooLong {
            field: "recipient_name".into(),
            length: 20_000,
            limit: 200,
        });
        assert_eq!(
            text,
            r#"recipient_name too long (field: "recipient_name", length: 20000, limit: 200)"#
        );
    }
}

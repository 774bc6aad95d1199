//! `courier-bridge shipment show <key>`: one shipment as the pipeline sees it. Its status and
//! the path it took, the courier task and where the tracking went, the proof of delivery,
//! the failure reason, the delivery cost and the cash collected, every courier event in the
//! order it happened, and each message the customer was (or was not) sent.

use crate::error::CliError;
use crate::render::{event_time, Table};
use aws::stack::StackStores;

use domain::{Money, ShipmentKey};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ShipmentView {
    pub key: String,
    pub status: String,
    pub courier: Option<String>,
    pub task_id: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    /// The store's reference for the tracking write-back.
    pub tracking_written_back: Option<String>,
    /// (status, when) in the order they were applied.
    pub transitions: Vec<(String, String)>,
    pub proof: Option<domain::courier::event::ProofOfDelivery>,
    pub failure: Option<domain::courier::event::Failure>,
    pub delivery_cost: Option<String>,
    pub cod_collected: Option<String>,
    pub eta: Option<String>,
    pub history: Vec<HistoryLine>,
    pub messages: Vec<MessageLine>,
}

#[derive(Debug, Serialize)]
pub struct HistoryLine {
    pub at: String,
    pub courier: String,
    pub event: String,
    pub status: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MessageLine {
    pub template: String,
    pub channel: String,
    pub state: String,
    pub attempts: u32,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
}

pub async fn show(stores: &StackStores, key: &str) -> Result<ShipmentView, CliError> {
    let key: ShipmentKey = key.parse().map_err(|e| {
        CliError::Usage(format!(
            "{key:?} is not a shipment key (channel:store:order:shipment): {e}"
        ))
    })?;
    let timeline = domain::timeline::read(&stores.shipments, &stores.history, &stores.outbox, &key)
        .await?
        .ok_or_else(|| CliError::NotFound(format!("shipment {key}")))?;
    let (record, history) = (timeline.record, timeline.events);
    let messages = timeline
        .messages
        .into_iter()
        .map(|m| MessageLine {
            template: m.template,
            channel: m.channel.as_str().to_owned(),
            state: m.state.as_str().to_owned(),
            attempts: m.attempts,
            provider_id: m.provider_id,
            last_error: m.last_error,
        })
        .collect();
    let money = |m: Option<Money>| m.map(|m| m.to_string());
    let task = record.task.as_ref();
    Ok(ShipmentView {
        key: key.to_string(),
        status: record.status.to_string(),
        courier: record.courier.map(|c| c.to_string()),
        task_id: task.map(|t| t.task_id.clone()),
        tracking_number: task.map(|t| t.tracking_number.clone()),
        tracking_url: task.and_then(|t| t.tracking_url.clone()),
        tracking_written_back: record.tracking_written_back.clone(),
        transitions: record
            .transitions
            .iter()
            .map(|(s, at)| (s.to_string(), event_time(*at)))
            .collect(),
        proof: record.delivery.proof.clone(),
        failure: record.delivery.failure.clone(),
        delivery_cost: money(record.delivery.delivery_cost),
        cod_collected: money(record.delivery.cod_collected),
        eta: record.delivery.eta_ms.map(event_time),
        history: history
            .into_iter()
            .map(|e| HistoryLine {
                at: event_time(e.at_ms),
                courier: e.courier.to_string(),
                event: e.courier_event,
                status: e.status.map(|s| s.to_string()),
            })
            .collect(),
        messages,
    })
}

pub fn render_show(view: &ShipmentView) -> String {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut lines = vec![
        format!("{}  {}", view.key, view.status),
        format!(
            "task      {} at {}, tracking {} {}",
            or_dash(&view.task_id),
            or_dash(&view.courier),
            or_dash(&view.tracking_number),
            view.tracking_url.clone().unwrap_or_default()
        ),
        format!("on store  {}", or_dash(&view.tracking_written_back)),
    ];
    if !view.transitions.is_empty() {
        let path: Vec<String> = view
            .transitions
            .iter()
            .map(|(s, at)| format!("{s} ({at})"))
            .collect();
        lines.push(format!("path      {}", path.join(" → ")));
    }
    if let Some(eta) = &view.eta {
        lines.push(format!("eta       {eta}"));
    }
    if let Some(p) = &view.proof {
        lines.push(format!(
            "proof     signed {} for {}; signature {}; {} photo(s); at {}; completed {}",
            or_dash(&p.signature_text),
            or_dash(&p.recipient_name),
            or_dash(&p.signature_upload_id),
            p.photo_upload_ids.len(),
            p.location
                .map(|l| format!("{:.5},{:.5}", l.lat, l.lng))
                .unwrap_or_else(|| "-".into()),
            p.completed_at_ms
                .map(event_time)
                .unwrap_or_else(|| "-".into())
        ));
    }
    if let Some(f) = &view.failure {
        lines.push(format!(
            "failure   {} {}",
            or_dash(&f.reason),
            f.notes.clone().unwrap_or_default()
        ));
    }
    lines.push(format!(
        "money     delivery cost {}, COD collected {}",
        or_dash(&view.delivery_cost),
        or_dash(&view.cod_collected)
    ));
    lines.push(String::new());
    if view.history.is_empty() {
        lines.push("no courier events".into());
    } else {
        let mut table = Table::new(["WHEN", "COURIER", "EVENT", "STATUS"]);
        for e in &view.history {
            table.row([
                e.at.clone(),
                e.courier.clone(),
                e.event.clone(),
                or_dash(&e.status),
            ]);
        }
        lines.push(table.render());
    }
    lines.push(String::new());
    if view.messages.is_empty() {
        lines.push("no customer messages".into());
    } else {
        let mut table = Table::new(["MESSAGE", "CHANNEL", "STATE", "ATTEMPTS", "PROVIDER ID"]);
        for m in &view.messages {
            table.row([
                m.template.clone(),
                m.channel.clone(),
                m.state.clone(),
                m.attempts.to_string(),
                m.provider_id
                    .clone()
                    .or_else(|| m.last_error.clone())
                    .unwrap_or_default(),
            ]);
        }
        lines.push(table.render());
    }
    lines.join("\n")
}

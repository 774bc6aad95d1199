//! Cash on delivery, a day at a time: what each courier owes (the day's cash-out tasks, as
//! the last reconciliation left them), the hand-overs recorded, the stored report files,
//! and, for a dispatcher, the form that records a hand-over.

use super::{encode, layout, Operator};
use domain::cod::{CashOutTask, Handover};
use maud::html;

/// The hand-over form as typed, shown again with what is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct HandoverForm {
    /// platform/driver, e.g. sandbox/drv_01.
    pub courier: String,
    pub amount: String,
    pub currency: String,
    pub receipt: String,
    pub csrf: String,
}

pub struct CashView<'a> {
    pub operator: &'a Operator<'a>,
    /// YYYY-MM-DD.
    pub day: &'a str,
    pub cash_outs: &'a [CashOutTask],
    pub handovers: &'a [Handover],
    /// The day's report files: (file name, size in bytes).
    pub reports: &'a [(String, i64)],
    pub can_record: bool,
    /// The form again after a refusal, with why.
    pub form: &'a HandoverForm,
    pub problem: Option<&'a str>,
    /// What the last action did ("recorded", "already recorded").
    pub notice: Option<&'a str>,
}

pub fn cash(view: &CashView) -> String {
    let day = view.day;
    let body = html! {
        h1 { "Cash on delivery · " (day) }
        form.filter method="get" action="/console/cash" {
            label for="day" { "Day" }
            input id="day" name="day" type="date" value=(day) required;
            button type="submit" { "Show" }
        }
        @if let Some(notice) = view.notice {
            p.notice role="status" { (notice) }
        }
        h2 { "What each courier owes" }
        @if view.cash_outs.is_empty() {
            p { "No cash-out tasks for " (day) ": the day has not been reconciled yet, or no cash was collected." }
        } @else {
            table {
                caption { "Cash-out tasks, as the last reconciliation of " (day) " left them" }
                thead { tr {
                    th scope="col" { "Courier" } th scope="col" { "Collected" }
                    th scope="col" { "Handed over" } th scope="col" { "Due" } th scope="col" { "State" }
                } }
                tbody {
                    @for task in view.cash_outs {
                        tr {
                            td { (task.courier) }
                            td { (task.collected) }
                            td { (task.handed_over) }
                            td { (task.due) }
                            td { @if task.is_settled() { "settled" } @else { "open" } }
                        }
                    }
                }
            }
        }
        p.hint { "The nightly run reconciles each day; " code { "courier-bridge cod reconcile --day " (day) } " reconciles it now. A hand-over recorded here counts in the next reconciliation." }
        h2 { "Hand-overs recorded" }
        @if view.handovers.is_empty() {
            p { "None for " (day) "." }
        } @else {
            table {
                caption { "Cash handed over for " (day) }
                thead { tr { th scope="col" { "Courier" } th scope="col" { "Receipt" } th scope="col" { "Amount" } } }
                tbody {
                    @for handover in view.handovers {
                        tr { td { (handover.courier) } td { (handover.receipt) } td { (handover.amount) } }
                    }
                }
            }
        }
        @if view.can_record {
            h2 { "Record a hand-over" }
            @if let Some(problem) = view.problem {
                p.problem role="alert" { (problem) }
            }
            form method="post" action=(format!("/console/cash/{}/handover", encode(day))) {
                input type="hidden" name="csrf" value=(view.operator.csrf);
                p.field {
                    label for="courier" { "Courier (platform/driver)" }
                    input id="courier" name="courier" type="text" required placeholder="sandbox/drv_01" value=(view.form.courier);
                }
                p.field {
                    label for="amount" { "Amount" }
                    input id="amount" name="amount" type="text" inputmode="decimal" required value=(view.form.amount);
                }
                p.field {
                    label for="currency" { "Currency" }
                    input id="currency" name="currency" type="text" required maxlength="3" value=(view.form.currency);
                }
                p.field {
                    label for="receipt" { "Receipt number" }
                    input id="receipt" name="receipt" type="text" required value=(view.form.receipt);
                }
                button type="submit" { "Record hand-over" }
            }
        }
        h2 { "Report" }
        @if view.reports.is_empty() {
            p { "No report stored for " (day) "." }
        } @else {
            ul {
                @for (file, bytes) in view.reports {
                    li { a href=(format!("/console/cash/{}/{}", encode(day), encode(file))) download { (file) } " (" (bytes) " bytes)" }
                }
            }
        }
    };
    layout(
        &format!("Cash on delivery {day}"),
        Some(view.operator),
        body,
    )
}

//! The dispatcher's console: sign-in, the review inbox, one item with what it needs. Every
//! form carries the session's CSRF token; a viewer's pages have no forms that act.

use domain::audit::InboundRecord;
use domain::ReviewItem;
use maud::{html, Markup};

mod cash;
mod plans;
mod shipments;
pub use cash::{cash, CashView, HandoverForm};
pub use plans::{plans, PlansView};
pub use shipments::{shipments, ShipmentSearch, ShipmentsView};

/// Who is signed in, as the pages show it.
pub struct Operator<'a> {
    pub user: &'a str,
    /// "viewer", "dispatcher" or "admin".
    pub role: &'a str,
    /// The session's CSRF token, put in every form.
    pub csrf: &'a str,
}

/// A console page: the navigation, who is signed in and the sign-out.
fn layout(title: &str, operator: Option<&Operator>, body: Markup) -> String {
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · courier-bridge" }
                link rel="stylesheet" href="/console/static/console.css";
            }
            body.console {
                header {
                    nav aria-label="Console" {
                        a href="/console/inbox" { "Review inbox" }
                        a href="/console/shipments" { "Shipments" }
                        a href="/console/cash" { "Cash" }
                        a href="/console/plans" { "Plans" }
                        a href="/console/stores" { "Stores" }
                        a href="/console/dlq" { "Dead letters" }
                    }
                    @if let Some(op) = operator {
                        form.signout method="post" action="/console/logout" {
                            span { (op.user) " · " (op.role) }
                            input type="hidden" name="csrf" value=(op.csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
    .into_string()
}

/// The sign-in form; `problem` after a refused attempt.
pub fn sign_in(csrf: &str, problem: Option<&str>) -> String {
    let body = html! {
        h1 { "Sign in" }
        @if let Some(problem) = problem {
            p.problem role="alert" { (problem) }
        }
        form method="post" action="/console/login" {
            input type="hidden" name="csrf" value=(csrf);
            p.field {
                label for="username" { "User name or e-mail" }
                input id="username" name="username" type="text" autocomplete="username" required;
            }
            p.field {
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
            }
            button type="submit" { "Sign in" }
        }
    };
    layout("Sign in", None, body)
}

/// A page the operator's role does not allow, or a form without its token.
pub fn forbidden(operator: Option<&Operator>, why: &str) -> String {
    let body = html! {
        h1 { "Not allowed" }
        p { (why) }
        p { a href="/console/inbox" { "Back to the review inbox" } }
    };
    layout("Not allowed", operator, body)
}

/// The statuses the inbox lists, in its tabs.
pub const INBOX_STATUSES: [&str; 4] = ["open", "released", "dismissed", "superseded"];

pub struct InboxView<'a> {
    pub operator: &'a Operator<'a>,
    pub items: &'a [ReviewItem],
    pub status: &'a str,
    /// The reason code filtered on.
    pub code: Option<&'a str>,
    /// Every reason code, for the filter.
    pub codes: &'a [&'a str],
    /// The next page's link, if there is one.
    pub next: Option<String>,
}

pub fn inbox(view: &InboxView) -> String {
    let body = html! {
        h1 { "Review inbox" }
        nav.tabs aria-label="Status" {
            @for status in INBOX_STATUSES {
                @if status == view.status {
                    a aria-current="page" href=(inbox_link(status, view.code)) { (status) }
                } @else {
                    a href=(inbox_link(status, view.code)) { (status) }
                }
            }
        }
        form.filter method="get" action="/console/inbox" {
            input type="hidden" name="status" value=(view.status);
            label for="reason" { "Reason" }
            select id="reason" name="reason" {
                option value="" { "any" }
                @for code in view.codes {
                    @if Some(*code) == view.code {
                        option value=(code) selected { (code) }
                    } @else {
                        option value=(code) { (code) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        @if view.items.is_empty() {
            p { "No " (view.status) " items." }
        } @else {
            table {
                caption { (view.status) " items, newest first" }
                thead { tr { th scope="col" { "Item" } th scope="col" { "Kind" } th scope="col" { "Reasons" } th scope="col" { "Seen" } th scope="col" { "Created" } } }
                tbody {
                    @for item in view.items {
                        tr {
                            td { a href=(item_link(&item.id)) { (item.id) } }
                            td { (item.kind) }
                            td { (item.reasons.iter().map(|r| r.code()).collect::<Vec<_>>().join(", ")) }
                            td { (item.occurrences) }
                            td { (item.created_at) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &view.next {
            p { a rel="next" href=(next) { "Next page" } }
        }
    };
    layout("Review inbox", Some(view.operator), body)
}

pub struct ItemView<'a> {
    pub operator: &'a Operator<'a>,
    pub item: &'a ReviewItem,
    /// The audit-trail record of the payload behind it.
    pub source: Option<&'a InboundRecord>,
    /// Whether the operator's role may act (fix, release, dismiss).
    pub can_act: bool,
    /// What the last action did, or why it was refused.
    pub notice: Option<&'a str>,
    /// The reasons a release or fix was refused for.
    pub problems: &'a [String],
}

pub fn review_item(view: &ItemView) -> String {
    let item = view.item;
    let csrf = view.operator.csrf;
    let draft = item
        .draft
        .as_ref()
        .and_then(|d| serde_json::to_string_pretty(d).ok());
    let body = html! {
        p { a href="/console/inbox" { "← Review inbox" } }
        h1 { (item.id) }
        @if let Some(notice) = view.notice {
            p.notice role="status" { (notice) }
        }
        @if !view.problems.is_empty() {
            div.problems role="alert" {
                h2 { "Refused" }
                ul { @for problem in view.problems { li { (problem) } } }
            }
        }
        dl {
            dt { "Status" } dd.status { (item.status) }
            @if let Some(resolution) = &item.resolution { dt { "Resolution" } dd { (resolution) } }
            dt { "Kind" } dd { (item.kind) }
            dt { "Created" } dd { (item.created_at) }
            dt { "Seen" } dd { @if item.occurrences == 1 { "once" } @else { (item.occurrences) " times" } }
            @if let Some(key) = &item.shipment_key { dt { "Shipment" } dd { a href=(shipment_link(key)) { (key) } } }
            @if let Some(key) = &item.order_key { dt { "Order" } dd { (key) } }
        }
        h2 { "Reasons" }
        @if item.reasons.is_empty() {
            p { "None: ready to release." }
        } @else {
            ul.reasons { @for reason in &item.reasons { li { (reason.described()) } } }
        }
        @if !item.fixes.is_empty() {
            h2 { "Fixes so far" }
            ul { @for fix in &item.fixes { li { (fix) } } }
        }
        h2 { "Draft" }
        @match &draft {
            Some(json) => pre { code { (json) } },
            None => p { "None: fix and release do not apply; dismiss it once handled." },
        }
        @if view.can_act && item.status == "open" {
            @if draft.is_some() {
                h2 { "Fix" }
                form method="post" action=(format!("{}/fix", item_link(&item.id))) {
                    input type="hidden" name="csrf" value=(csrf);
                    p.field {
                        label for="fixes" { "One PATH=VALUE a line (phone=+4930901820, address.postal_code=10119)" }
                        textarea id="fixes" name="fixes" rows="3" {}
                    }
                    button type="submit" { "Apply the fixes" }
                }
                form method="post" action=(format!("{}/release", item_link(&item.id))) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { "Release" }
                }
            }
            h2 { "Dismiss" }
            form method="post" action=(format!("{}/dismiss", item_link(&item.id))) {
                input type="hidden" name="csrf" value=(csrf);
                p.field {
                    label for="reason" { "Why (kept with the item)" }
                    input id="reason" name="reason" type="text" required;
                }
                button type="submit" { "Dismiss" }
            }
        }
        @if let Some(source) = view.source {
            h2 { "Source payload" }
            dl {
                dt { "Received" } dd { (source.received_at) }
                dt { "State" } dd { (source.state.as_str()) }
                @if let Some(outcome) = &source.outcome { dt { "Outcome" } dd { (outcome) } }
            }
            pre { code { (String::from_utf8_lossy(&source.body)) } }
        }
    };
    layout(&item.id, Some(view.operator), body)
}

/// The console's link to an item: its id percent-encoded as one path segment.
pub fn item_link(id: &str) -> String {
    format!("/console/inbox/{}", encode(id))
}

fn inbox_link(status: &str, code: Option<&str>) -> String {
    match code {
        Some(code) => format!(
            "/console/inbox?status={}&reason={}",
            encode(status),
            encode(code)
        ),
        None => format!("/console/inbox?status={}", encode(status)),
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The console's stylesheet: the customer pages' and a wider, denser layout.
pub fn stylesheet() -> String {
    format!("{}{CONSOLE_CSS}", super::STYLESHEET)
}

const CONSOLE_CSS: &str = "body.console main{max-width:64rem}body.console header{display:flex;\
justify-content:space-between;align-items:center;flex-wrap:wrap;gap:.5rem;padding:.5rem 1rem;\
background:#1b1b1b;color:#fff}body.console header a{color:#fff;margin-right:1rem}\
.signout button{margin-left:.5rem;padding:.3rem .6rem}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;overflow-wrap:anywhere}\
caption{text-align:left;font-weight:600;padding:.4rem 0}.tabs a{margin-right:1rem}\
.tabs a[aria-current]{font-weight:700;text-decoration:none}.filter{margin:1rem 0}\
.filter select{margin:0 .5rem;padding:.3rem}pre{background:#f0f0f0;padding:.6rem;overflow:auto;\
white-space:pre-wrap;overflow-wrap:anywhere}textarea{width:100%;box-sizing:border-box;\
font-family:monospace}.problem{color:#b00020;font-weight:600}form{margin:.6rem 0}";

/// A store's rules: viewed by every role, edited by an admin.
pub struct StoreView<'a> {
    pub operator: &'a Operator<'a>,
    pub channel: &'a str,
    pub store: &'a str,
    /// The rules as JSON: the stored ones, the defaults, or what the admin just sent.
    pub config: &'a str,
    /// Whether the store has rules of its own (else the defaults apply).
    pub stored: bool,
    pub can_edit: bool,
    pub notice: Option<&'a str>,
    /// Why the sent rules were refused.
    pub problem: Option<&'a str>,
}

pub fn store(view: &StoreView) -> String {
    let title = format!("{}:{}", view.channel, view.store);
    let action = store_link(view.channel, view.store);
    let body = html! {
        p { a href="/console/stores" { "← Stores" } }
        h1 { "Store " (title) }
        @if let Some(notice) = view.notice { p.notice role="status" { (notice) } }
        @if let Some(problem) = view.problem {
            div.problems role="alert" { h2 { "Not saved" } p { (problem) } }
        }
        @if !view.stored {
            p { "This store has no rules of its own: the defaults below apply." }
        }
        @if view.can_edit {
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(view.operator.csrf);
                p.field {
                    label for="config" { "Rules (JSON; docs/channels.md lists every setting)" }
                    textarea id="config" name="config" rows="18" { (view.config) }
                }
                button type="submit" { "Save the rules" }
            }
        } @else {
            pre { code { (view.config) } }
            p { "Only an admin may change a store's rules." }
        }
    };
    layout(&title, Some(view.operator), body)
}

/// The form that opens a store's rules by channel and name.
pub fn stores(operator: &Operator, channels: &[&str], problem: Option<&str>) -> String {
    let body = html! {
        h1 { "Stores" }
        @if let Some(problem) = problem { p.problem role="alert" { (problem) } }
        form method="get" action="/console/stores/open" {
            p.field {
                label for="channel" { "Channel" }
                select id="channel" name="channel" {
                    @for channel in channels { option value=(channel) { (channel) } }
                }
            }
            p.field {
                label for="store" { "Store name (as in its webhook URL)" }
                input id="store" name="store" type="text" required;
            }
            button type="submit" { "Open its rules" }
        }
    };
    layout("Stores", Some(operator), body)
}

/// The console's link to a store's rules.
pub fn store_link(channel: &str, store: &str) -> String {
    format!("/console/stores/{}/{}", encode(channel), encode(store))
}

/// Each dead-letter queue's depth, by its source queue.
pub fn dead_letter_queues(operator: &Operator, depths: &[(String, u64)]) -> String {
    let body = html! {
        h1 { "Dead-letter queues" }
        p { "What failed for good after its retries. Redrive a queue once the cause is fixed." }
        table {
            caption { "Messages waiting, by the queue they came from" }
            thead { tr { th scope="col" { "Queue" } th scope="col" { "Messages" } } }
            tbody {
                @for (queue, depth) in depths {
                    tr {
                        td { a href=(format!("/console/dlq/{}", encode(queue))) { (queue) } }
                        td { (depth) }
                    }
                }
            }
        }
    };
    layout("Dead-letter queues", Some(operator), body)
}

pub struct DeadLetterView<'a> {
    pub operator: &'a Operator<'a>,
    pub queue: &'a str,
    /// (message id, times received, body).
    pub messages: &'a [(&'a str, u32, &'a str)],
    pub can_redrive: bool,
    pub notice: Option<&'a str>,
    pub problem: Option<&'a str>,
}

pub fn dead_letter_queue(view: &DeadLetterView) -> String {
    let body = html! {
        p { a href="/console/dlq" { "← Dead-letter queues" } }
        h1 { "Dead letters of " (view.queue) }
        @if let Some(notice) = view.notice { p.notice role="status" { (notice) } }
        @if let Some(problem) = view.problem {
            div.problems role="alert" { h2 { "Not redriven" } p { (problem) } }
        }
        @if view.messages.is_empty() {
            p { "None waiting." }
        } @else {
            table {
                caption { "The first " (view.messages.len()) " messages" }
                thead { tr { th scope="col" { "Message" } th scope="col" { "Received" } th scope="col" { "Body" } } }
                tbody {
                    @for (id, received, text) in view.messages {
                        tr { td { (id) } td { (received) " times" } td { code { (text) } } }
                    }
                }
            }
            @if view.can_redrive {
                h2 { "Redrive" }
                form method="post" action=(format!("/console/dlq/{}/redrive", encode(view.queue))) {
                    input type="hidden" name="csrf" value=(view.operator.csrf);
                    p.choice {
                        input id="confirm" name="confirm" type="checkbox" value="yes" required;
                        label for="confirm" { "The cause is fixed: send every message back to " (view.queue) " (each does its work once)." }
                    }
                    button type="submit" { "Send them back" }
                }
            }
        }
    };
    layout(
        &format!("Dead letters of {}", view.queue),
        Some(view.operator),
        body,
    )
}

/// One shipment's timeline: where it is, how it got there, what the courier said, what the
/// customer was told, and the money. Times in UTC (an operator's log reads that way).
pub fn shipment(operator: &Operator, timeline: &domain::timeline::Timeline) -> String {
    let record = &timeline.record;
    let key = record.shipment.key.to_string();
    let at = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|_| format!("{ms} ms"))
    };
    let task = record.task.as_ref();
    let body = html! {
        p { a href="/console/shipments" { "← Shipments" } }
        h1 { "Shipment " (key) }
        dl {
            dt { "Status" } dd.status { (record.status) }
            @if let Some(order) = &record.shipment.order_name { dt { "Order" } dd { (order) } }
            dt { "Recipient" } dd { (record.shipment.recipient.name) }
            dt { "Address" } dd { (record.shipment.address.street_line()) ", " (record.shipment.address.city) }
            @if let Some(courier) = record.courier { dt { "Courier" } dd { (courier) } }
            @if let Some(task) = task {
                dt { "Task" } dd { (task.task_id) }
                dt { "Tracking" } dd { (task.tracking_number) }
            }
            @if let Some(eta) = record.delivery.eta_ms { dt { "ETA" } dd { (at(eta)) } }
            @if let Some(cost) = record.delivery.delivery_cost { dt { "Delivery cost" } dd { (cost) } }
            @if let Some(cash) = record.delivery.cod_collected { dt { "Cash collected" } dd { (cash) } }
        }
        h2 { "Status path" }
        ol.path { @for (status, ms) in &record.transitions { li { (status) time { (at(*ms)) } } } }
        @if let Some(failure) = &record.delivery.failure {
            h2 { "Failed attempt" }
            p { (failure.reason.as_deref().unwrap_or("no reason given"))
                @if let Some(notes) = &failure.notes { ": " (notes) } }
        }
        @if let Some(proof) = &record.delivery.proof {
            h2 { "Proof of delivery" }
            dl {
                @if let Some(name) = &proof.signature_text { dt { "Signed by" } dd { (name) } }
                @if let Some(ms) = proof.completed_at_ms { dt { "Completed" } dd { (at(ms)) } }
                dt { "Photos" } dd { (proof.photo_upload_ids.len()) }
                @if let Some(notes) = &proof.notes { dt { "Driver's note" } dd { (notes) } }
            }
        }
        h2 { "Courier events" }
        @if timeline.events.is_empty() {
            p { "None yet." }
        } @else {
            table {
                caption { "As the courier reported them, oldest first" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "Status" } } }
                tbody {
                    @for event in &timeline.events {
                        tr {
                            td { (at(event.at_ms)) }
                            td { (event.courier) ": " (event.courier_event) }
                            td { @if let Some(status) = event.status { (status) } }
                        }
                    }
                }
            }
        }
        h2 { "Customer messages" }
        @if timeline.messages.is_empty() {
            p { "None." }
        } @else {
            table {
                caption { "One per kind of message" }
                thead { tr { th scope="col" { "Message" } th scope="col" { "Channel" } th scope="col" { "State" } th scope="col" { "Attempts" } } }
                tbody {
                    @for message in &timeline.messages {
                        tr {
                            td { (message.template) }
                            td { (message.channel.as_str()) }
                            td { (message.state.as_str())
                                @if let Some(error) = &message.last_error { " (" (error) ")" } }
                            td { (message.attempts) }
                        }
                    }
                }
            }
        }
    };
    layout(&format!("Shipment {key}"), Some(operator), body)
}

/// The console's link to a shipment's timeline.
pub fn shipment_link(key: &str) -> String {
    format!("/console/shipments/{}", encode(key))
}

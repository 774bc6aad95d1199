//! The review inbox: a page of a status's items from the index, an item with what it needs,
//! and the desk's three actions. An action answers with the item's page (303, so a reload
//! repeats nothing) saying what it did, or the item's page with why it was refused.

use crate::auth::Role;
use crate::{page, unavailable, App, Signed};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::desk::DeskError;
use domain::ports::ReviewQuery;
use pages::console::{item_link, INBOX_STATUSES};

/// Items a page: enough to scan at a glance, one query of the index.
const PAGE_SIZE: u32 = 25;

/// Every reason code, for the inbox's filter.
const CODES: [&str; 24] = [
    "unparseable_payload",
    "missing_address",
    "missing_field",
    "missing_phone",
    "invalid_phone",
    "invalid_email",
    "invalid_postal_code",
    "invalid_country",
    "invalid_amount",
    "invalid_delivery_window",
    "nothing_to_ship",
    "invalid_id",
    "invalid_date",
    "too_long",
    "masked_phone",
    "address_not_found",
    "address_ambiguous",
    "edit_after_pickup",
    "cancel_after_pickup",
    "ship_by_at_risk",
    "courier_rejected",
    "store_rejected",
    "not_planned",
    "redelivery_requested",
];

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: Option<String>,
    reason: Option<String>,
    after: Option<String>,
}

pub async fn list(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    // Only the known statuses and codes reach the query (and the page's links).
    let status = query
        .status
        .as_deref()
        .and_then(|s| INBOX_STATUSES.into_iter().find(|known| *known == s))
        .unwrap_or("open");
    let code = query
        .reason
        .as_deref()
        .and_then(|c| CODES.into_iter().find(|known| *known == c));
    let found = app
        .reviews
        .page(&ReviewQuery {
            status: status.to_owned(),
            code: code.map(str::to_owned),
            limit: PAGE_SIZE,
            after: query.after.filter(|a| !a.is_empty()),
        })
        .await;
    let found = match found {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "the inbox cannot be read");
            return unavailable();
        }
    };
    let next = found.next.map(|after| {
        let mut link = format!(
            "/console/inbox?status={status}&after={}",
            pages::console::encode(&after)
        );
        if let Some(code) = code {
            link.push_str(&format!("&reason={code}"));
        }
        link
    });
    let html = pages::console::inbox(&pages::console::InboxView {
        operator: &signed.operator(),
        items: &found.items,
        status,
        code,
        codes: &CODES,
        next,
    });
    page(StatusCode::OK, html)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    done: Option<String>,
}

pub async fn show(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let notice = query.done.as_deref().and_then(|done| match done {
        "fixed" => Some("Fixes applied."),
        "released" => Some("Released: the shipment is on its way to the courier."),
        "dismissed" => Some("Dismissed."),
        _ => None,
    });
    item_page(&app, &signed, &id, StatusCode::OK, notice, &[]).await
}

/// The item's page, with a notice or the problems of a refused action.
async fn item_page(
    app: &App,
    signed: &Signed,
    id: &str,
    status: StatusCode,
    notice: Option<&str>,
    problems: &[String],
) -> Response {
    let item = match app.reviews.get(&domain::desk::item_id(id)).await {
        Ok(Some(item)) => item,
        Ok(None) => return crate::not_found().await,
        Err(error) => {
            tracing::error!(%error, "review item unreadable");
            return unavailable();
        }
    };
    let source = match &item.source_inbound {
        Some(source) => match app.audit.get(source).await {
            Ok(source) => source,
            Err(error) => {
                tracing::warn!(%error, "the item's payload unreadable; shown without it");
                None
            }
        },
        None => None,
    };
    let html = pages::console::review_item(&pages::console::ItemView {
        operator: &signed.operator(),
        item: &item,
        source: source.as_ref(),
        can_act: signed.session.role >= Role::Dispatcher,
        notice,
        problems,
    });
    page(status, html)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    /// `fix`: one PATH=VALUE a line.
    fixes: String,
    /// `dismiss`: why.
    reason: String,
}

pub async fn act(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    if !matches!(action.as_str(), "fix" | "release" | "dismiss") {
        return crate::not_found().await;
    }
    let signed = match app.acting(&headers, Role::Dispatcher, &form.csrf).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let by = signed.session.user.clone();
    let operations = app.desk();
    let done = match action.as_str() {
        "fix" => {
            let fixes = match parse_fixes(&form.fixes) {
                Ok(fixes) => fixes,
                Err(problem) => {
                    return item_page(
                        &app,
                        &signed,
                        &id,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        None,
                        &[problem],
                    )
                    .await
                }
            };
            operations.fix(&id, &fixes, &by).await.map(|_| "fixed")
        }
        "release" => operations.release(&id, &by).await.map(|_| "released"),
        _ => {
            let reason = form.reason.trim();
            if reason.is_empty() {
                let problem = "Say why it is dismissed.".to_owned();
                return item_page(
                    &app,
                    &signed,
                    &id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    &[problem],
                )
                .await;
            }
            operations
                .dismiss(&id, reason, &by)
                .await
                .map(|_| "dismissed")
        }
    };
    match done {
        Ok(done) => {
            tracing::info!(item = %id, user = %by, action = done, "review item acted on");
            Redirect::to(&format!(
                "{}?done={done}",
                item_link(&domain::desk::item_id(&id))
            ))
            .into_response()
        }
        Err(DeskError::Storage(error)) => {
            tracing::error!(%error, item = %id, "review action failed");
            unavailable()
        }
        Err(DeskError::NotFound(_)) => crate::not_found().await,
        Err(DeskError::Invalid { reasons, .. }) => {
            let problems: Vec<String> = reasons.iter().map(|r| r.described()).collect();
            item_page(
                &app,
                &signed,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("Not released: the draft is not valid."),
                &problems,
            )
            .await
        }
        // Closed meanwhile (by another dispatcher, the CLI, a newer event), no draft, a
        // fix that does not apply: said as the desk says it.
        Err(refused) => {
            item_page(
                &app,
                &signed,
                &id,
                StatusCode::CONFLICT,
                None,
                &[refused.to_string()],
            )
            .await
        }
    }
}

/// `PATH=VALUE` lines into the desk's fixes; blank lines skipped.
fn parse_fixes(text: &str) -> Result<Vec<(String, String)>, String> {
    let fixes: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(domain::desk::parse_fix)
        .collect::<Result<_, _>>()?;
    if fixes.is_empty() {
        return Err("No fix given: one PATH=VALUE a line.".into());
    }
    Ok(fixes)
}

//! Cash on delivery (`/console/cash`): a day's cash-out tasks, hand-overs and report files;
//! a dispatcher records a hand-over through `domain::cod::hand_over`, as
//! `courier-bridge cod handover` does (the same receipt twice counts once; the same receipt
//! with another amount is refused, and nothing changes).
//!
//! Reconciling a day reads every shipment, which is the nightly run's and the CLI's job,
//! not a page's (a page answers within the API's 30 seconds).

use crate::auth::Role;
use crate::{page, unavailable, App, Signed};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::cod::{day_text, parse_day, CourierId, Handover, HandoverError, HandoverWrite};
use domain::{Currency, Money};
use pages::console::{CashView, HandoverForm};
use time::Date;

/// The report files a day's reconciliation stores, and their types.
const REPORT_FILES: [(&str, &str); 3] = [
    ("couriers.csv", "text/csv; charset=utf-8"),
    ("exceptions.csv", "text/csv; charset=utf-8"),
    ("report.html", "text/html; charset=utf-8"),
];

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DayQuery {
    day: String,
    done: String,
}

/// The day asked for; today (UTC) when none is.
fn day_or_today(text: &str) -> Option<Date> {
    if text.trim().is_empty() {
        let today = domain::ports::utc_day(domain::clock::now_ms())?;
        return parse_day(&today);
    }
    parse_day(text)
}

pub(crate) async fn show(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<DayQuery>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let Some(day) = day_or_today(&query.day) else {
        return crate::not_found().await;
    };
    let notice = match query.done.as_str() {
        "recorded" => Some("Hand-over recorded."),
        "already" => Some("That receipt was already recorded with this amount: nothing changed."),
        _ => None,
    };
    render(
        &app,
        &signed,
        day,
        &HandoverForm::default(),
        StatusCode::OK,
        None,
        notice,
    )
    .await
}

async fn render(
    app: &App,
    signed: &Signed,
    day: Date,
    form: &HandoverForm,
    status: StatusCode,
    problem: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let prefix = domain::cod::run::report_prefix(day);
    // Three independent reads: one round trip's wait, not three.
    let read = async {
        let (cash_outs, handovers, files) = tokio::try_join!(
            app.cash.cash_outs(day),
            app.cash.handovers(day),
            app.reports.list(&prefix),
        )?;
        let reports: Vec<(String, i64)> = files
            .into_iter()
            .filter_map(|file| {
                let name = file.key.strip_prefix(&prefix)?.to_owned();
                REPORT_FILES
                    .iter()
                    .any(|(known, _)| *known == name)
                    .then_some((name, file.size))
            })
            .collect();
        Ok::<_, domain::StorageError>((cash_outs, handovers, reports))
    };
    let (cash_outs, handovers, reports) = match read.await {
        Ok(read) => read,
        Err(error) => {
            tracing::error!(%error, "cash of a day unreadable");
            return unavailable();
        }
    };
    let day = day_text(day);
    page(
        status,
        pages::console::cash(&CashView {
            operator: &signed.operator(),
            day: &day,
            cash_outs: &cash_outs,
            handovers: &handovers,
            reports: &reports,
            can_record: signed.session.role >= Role::Dispatcher,
            form,
            problem,
            notice,
        }),
    )
}

/// One stored report file of the day, as a download.
pub(crate) async fn report(
    State(app): State<App>,
    headers: HeaderMap,
    Path((day, file)): Path<(String, String)>,
) -> Response {
    if let Err(answer) = app.operator(&headers).await {
        return answer;
    }
    let (Some(day), Some((name, content_type))) = (
        parse_day(&day),
        REPORT_FILES.iter().find(|(known, _)| *known == file),
    ) else {
        return crate::not_found().await;
    };
    let key = format!("{}{name}", domain::cod::run::report_prefix(day));
    match app.reports.get(&key).await {
        Ok(Some(body)) => (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"cod-{}-{name}\"", day_text(day)),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            body,
        )
            .into_response(),
        Ok(None) => crate::not_found().await,
        Err(error) => {
            tracing::error!(%error, key, "report unreadable");
            unavailable()
        }
    }
}

/// The form as a hand-over, or what is wrong with it in words.
fn parse(form: &HandoverForm) -> Result<Handover, String> {
    let courier = CourierId::parse(form.courier.trim()).ok_or_else(|| {
        format!(
            "{:?} is not a courier: platform/driver, e.g. sandbox/drv_01.",
            form.courier.trim()
        )
    })?;
    let currency: Currency = form
        .currency
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|error| format!("Currency: {error}."))?;
    let amount =
        Money::parse(form.amount.trim(), currency).map_err(|error| format!("Amount: {error}."))?;
    Ok(Handover {
        courier,
        receipt: form.receipt.trim().to_owned(),
        amount,
    })
}

pub(crate) async fn record(
    State(app): State<App>,
    headers: HeaderMap,
    Path(day): Path<String>,
    Form(form): Form<HandoverForm>,
) -> Response {
    let signed = match app.acting(&headers, Role::Dispatcher, &form.csrf).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let Some(day) = parse_day(&day) else {
        return crate::not_found().await;
    };
    let refused = |status, problem: String| {
        let (app, signed, form) = (&app, &signed, &form);
        async move { render(app, signed, day, form, status, Some(&problem), None).await }
    };
    let handover = match parse(&form) {
        Ok(handover) => handover,
        Err(problem) => return refused(StatusCode::UNPROCESSABLE_ENTITY, problem).await,
    };
    let done = match domain::cod::hand_over(app.cash.as_ref(), day, &handover, &signed.session.user)
        .await
    {
        Ok(HandoverWrite::AlreadyRecorded) => "already",
        Ok(_) => "recorded",
        Err(HandoverError::Storage(error)) => {
            tracing::error!(%error, "hand-over not recorded");
            return unavailable();
        }
        Err(conflict @ HandoverError::Conflict { .. }) => {
            return refused(StatusCode::CONFLICT, format!("Not recorded: {conflict}.")).await
        }
        Err(invalid) => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Not recorded: {invalid}."),
            )
            .await
        }
    };
    tracing::info!(user = %signed.session.user, courier = %handover.courier, receipt = handover.receipt, day = %day_text(day), "hand-over recorded");
    Redirect::to(&format!("/console/cash?day={}&done={done}", day_text(day))).into_response()
}

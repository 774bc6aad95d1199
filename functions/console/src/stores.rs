//! A store's rules: every role reads them; an admin edits them as JSON, parsed into the
//! domain's `StoreConfig` before anything is written (unknown settings, a time zone the
//! database does not know, a slot window that ends before it starts: refused, in words, with
//! the text kept) — the same check as `courier-bridge store put`.

use crate::auth::Role;
use crate::{page, unavailable, App};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::shipment::is_valid_store_name;
use domain::{Channel, StoreConfig};
use pages::console::{store_link, StoreView};

pub(crate) const CHANNELS: [&str; 4] = ["shopify", "woocommerce", "amazon", "api"];

pub async fn index(State(app): State<App>, headers: HeaderMap) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    page(
        StatusCode::OK,
        pages::console::stores(&signed.operator(), &CHANNELS, None),
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct OpenQuery {
    channel: String,
    store: String,
}

/// The form's answer: to the store's page, or the form again saying what is wrong.
pub async fn open(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<OpenQuery>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    match parse(&query.channel, query.store.trim()) {
        Ok((channel, store)) => Redirect::to(&store_link(channel.as_str(), store)).into_response(),
        Err(problem) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::console::stores(&signed.operator(), &CHANNELS, Some(&problem)),
        ),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    done: Option<String>,
}

pub async fn show(
    State(app): State<App>,
    headers: HeaderMap,
    Path((channel, store)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let (channel, store) = match parse(&channel, &store) {
        Ok(found) => found,
        Err(_) => return crate::not_found().await,
    };
    let stored = match app.rules.read(channel, store).await {
        Ok(stored) => stored,
        Err(error) => {
            tracing::error!(%error, "store rules unreadable");
            return unavailable();
        }
    };
    let config =
        match serde_json::to_string_pretty(stored.as_ref().unwrap_or(&StoreConfig::default())) {
            Ok(text) => text,
            Err(error) => {
                tracing::error!(%error, "store rules not serialisable");
                return unavailable();
            }
        };
    let notice = query
        .done
        .is_some()
        .then_some("Saved: the functions read the new rules within five minutes.");
    page(
        StatusCode::OK,
        pages::console::store(&StoreView {
            operator: &signed.operator(),
            channel: channel.as_str(),
            store,
            config: &config,
            stored: stored.is_some(),
            can_edit: signed.session.role >= Role::Admin,
            notice,
            problem: None,
        }),
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RulesForm {
    csrf: String,
    config: String,
}

pub async fn save(
    State(app): State<App>,
    headers: HeaderMap,
    Path((channel, store)): Path<(String, String)>,
    Form(form): Form<RulesForm>,
) -> Response {
    let signed = match app.acting(&headers, Role::Admin, &form.csrf).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let (channel, store) = match parse(&channel, &store) {
        Ok(found) => found,
        Err(_) => return crate::not_found().await,
    };
    let config: StoreConfig = match serde_json::from_str(&form.config) {
        Ok(config) => config,
        Err(error) => {
            let problem = format!("These rules are not valid: {error}.");
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::console::store(&StoreView {
                    operator: &signed.operator(),
                    channel: channel.as_str(),
                    store,
                    config: &form.config,
                    stored: true,
                    can_edit: true,
                    notice: None,
                    problem: Some(&problem),
                }),
            );
        }
    };
    if let Err(error) = app.rules.put(channel, store, &config).await {
        tracing::error!(%error, "store rules not saved");
        return unavailable();
    }
    tracing::info!(user = %signed.session.user, %channel, store, "store rules saved");
    Redirect::to(&format!(
        "{}?done=saved",
        store_link(channel.as_str(), store)
    ))
    .into_response()
}

/// A channel and a store name as the console takes them, or what is wrong with them.
pub(crate) fn parse<'a>(channel: &str, store: &'a str) -> Result<(Channel, &'a str), String> {
    let channel: Channel = channel
        .parse()
        .map_err(|_| format!("{channel:?} is not a channel ({}).", CHANNELS.join(", ")))?;
    if !is_valid_store_name(store) {
        return Err(format!(
            "{store:?} is not a store name (lowercase letters, digits, '-' and '_'; at most 64)."
        ));
    }
    Ok((channel, store))
}

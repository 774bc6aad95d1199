//! `GET` and `POST /a/{token}`: the customer corrects an address the courier (or the
//! geocoder) could not place. The correction goes through the review desk exactly as an
//! operator's would: the draft fixed and re-validated with the store's rules, and a valid
//! draft released through intake, which asks create-task for the task once (its
//! idempotency makes a repeat harmless), then the item closed as fixed by the customer.

use crate::{open_link, page, store_config, unavailable, Pages};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::desk::DeskError;
use domain::draft::AddressDraft;
use domain::review::{review_id, OPEN};
use domain::{ReviewItem, ShipmentKey};
use links::Purpose;
use pages::{AddressFields, Locale, Settled};

/// How the resolution of an item the customer fixed begins (the console and the CLI show it).
pub const FIXED_BY_THE_CUSTOMER: &str = "fixed by the customer";

/// What the form sends; a field left out arrives empty.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AddressForm {
    street: String,
    house: String,
    apartment: String,
    postal_code: String,
    city: String,
}

/// The form, prefilled with the address the order has; or, once settled, what happened.
pub async fn show(State(pages): State<Pages>, Path(token): Path<String>) -> Response {
    let key = match open_link(&pages, &token, Purpose::FixAddress).await {
        Ok(key) => key,
        Err(refused) => return refused,
    };
    let item = match pages.reviews.get(&review_id(&key.to_string())).await {
        Ok(item) => item,
        Err(error) => {
            tracing::error!(%error, shipment = %key, "review item unreadable");
            return unavailable();
        }
    };
    let (store, config) = match store_config(&pages, &key).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let locale = config.locale();
    let order = order_name(item.as_ref(), &key);
    match item {
        Some(item) if asks_the_customer(&item) => {
            let fields = item
                .draft
                .as_ref()
                .and_then(|d| d.address.as_ref())
                .map(fields_of)
                .unwrap_or_default();
            let html = pages::fix_address(&pages::FixAddressView {
                store: &store,
                order: &order,
                address: &fields,
                problems: &[],
                locale,
            });
            page(StatusCode::OK, html)
        }
        Some(item) => settled_page(&store, &order, &item, locale),
        None => page(
            StatusCode::OK,
            pages::address_settled(&store, &order, &Settled::NothingToDo, locale),
        ),
    }
}

/// The customer's correction: applied and validated; released when valid (then the form's
/// page again, which now says where the order goes: a reload sends nothing twice).
pub async fn submit(
    State(pages): State<Pages>,
    Path(token): Path<String>,
    Form(form): Form<AddressForm>,
) -> Response {
    let key = match open_link(&pages, &token, Purpose::FixAddress).await {
        Ok(key) => key,
        Err(refused) => return refused,
    };
    let id = review_id(&key.to_string());
    let (store, config) = match store_config(&pages, &key).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let locale = config.locale();
    let desk = pages.desk();
    let item = match desk.open_item(&id).await {
        Ok(item) if asks_the_customer(&item) => item,
        // Settled meanwhile (a second tab, the store): the page says how.
        Ok(_) | Err(DeskError::NotFound(_) | DeskError::NotOpen { .. }) => {
            return again(&token);
        }
        Err(error) => return failed(&error, &key),
    };
    let order = order_name(Some(&item), &key);
    let sent = form.fields(&item);
    let before = item
        .draft
        .as_ref()
        .and_then(|d| d.address.as_ref())
        .map(fields_of)
        .unwrap_or_default();
    if sent == before && names_an_unplaceable_address(&item) {
        let problems = vec![pages::same_address(locale).to_owned()];
        return form_again(&store, &order, &sent, problems, locale);
    }
    let fixed = match desk.fix(&id, &sent.as_fixes(), "the customer").await {
        Ok(fixed) => fixed,
        Err(DeskError::NotFound(_) | DeskError::NotOpen { .. }) => return again(&token),
        Err(error) => return failed(&error, &key),
    };
    let (theirs, the_stores): (Vec<_>, Vec<_>) = fixed
        .reasons
        .iter()
        .partition(|reason| pages::customer_can_fix(reason));
    if !theirs.is_empty() {
        let problems = theirs
            .into_iter()
            .map(|reason| pages::problem_words(reason, locale))
            .collect();
        return form_again(&store, &order, &sent, problems, locale);
    }
    if !the_stores.is_empty() {
        // The address is right; what is left is the store's to settle (a phone, an
        // amount). The item stays open with the customer's address in its draft.
        tracing::info!(review = %id, "customer fixed the address; the rest is the store's");
        let address = sent.one_line();
        return page(
            StatusCode::OK,
            pages::address_settled(
                &store,
                &order,
                &Settled::SavedForTheStore { address: &address },
                locale,
            ),
        );
    }
    match desk.release_as(&id, FIXED_BY_THE_CUSTOMER).await {
        Ok(released) => {
            tracing::info!(review = %id, admitted = released.summary, "customer fixed the address");
            again(&token)
        }
        // Another submit of the same form won the close: the page shows its outcome.
        Err(DeskError::NotFound(_) | DeskError::NotOpen { .. }) => again(&token),
        Err(DeskError::ClosedMeanwhile { .. }) => again(&token),
        Err(error) => failed(&error, &key),
    }
}

/// Back to the page by GET (303: a reload does not post again).
fn again(token: &str) -> Response {
    Redirect::to(&format!("/{}/{token}", Purpose::FixAddress.path())).into_response()
}

fn form_again(
    store: &str,
    order: &str,
    sent: &AddressFields,
    problems: Vec<String>,
    locale: Locale,
) -> Response {
    let html = pages::fix_address(&pages::FixAddressView {
        store,
        order,
        address: sent,
        problems: &problems,
        locale,
    });
    page(StatusCode::UNPROCESSABLE_ENTITY, html)
}

/// Storage failed: nothing is lost (the item stays open, or the release is repeated
/// harmlessly), and the customer is asked to send the form again.
fn failed(error: &DeskError, key: &ShipmentKey) -> Response {
    tracing::error!(%error, shipment = %key, "customer's address fix failed");
    unavailable()
}

/// The page for an item no longer open: the customer's own fix, or someone else's.
fn settled_page(store: &str, order: &str, item: &ReviewItem, locale: Locale) -> Response {
    let by_customer = item.status != OPEN
        && item
            .resolution
            .as_deref()
            .is_some_and(|r| r.starts_with(FIXED_BY_THE_CUSTOMER));
    let address = item
        .draft
        .as_ref()
        .and_then(|d| d.address.as_ref())
        .map(|a| fields_of(a).one_line());
    let html = match (by_customer, &address) {
        (true, Some(address)) => {
            pages::address_settled(store, order, &Settled::Fixed { address }, locale)
        }
        _ => pages::address_settled(store, order, &Settled::NothingToDo, locale),
    };
    page(StatusCode::OK, html)
}

/// An open item this page may answer: the customer was asked about its address.
fn asks_the_customer(item: &ReviewItem) -> bool {
    item.status == OPEN
        && item.draft.is_some()
        && item
            .reasons
            .iter()
            .any(|r| r.asks_customer() || pages::customer_can_fix(r))
}

/// The courier (or the geocoder) said the address as it stands cannot be placed.
fn names_an_unplaceable_address(item: &ReviewItem) -> bool {
    item.reasons.iter().any(|r| r.asks_customer())
}

fn order_name(item: Option<&ReviewItem>, key: &ShipmentKey) -> String {
    item.and_then(|i| i.draft.as_ref())
        .and_then(|d| d.order_name.clone())
        .unwrap_or_else(|| key.order_id.clone())
}

fn fields_of(address: &AddressDraft) -> AddressFields {
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
    AddressFields {
        street: text(&address.street),
        house: text(&address.house),
        apartment: text(&address.apartment),
        postal_code: text(&address.postal_code),
        city: text(&address.city),
        country_code: text(&address.country_code),
    }
}

impl AddressForm {
    /// What was sent, trimmed, with the order's country.
    fn fields(&self, item: &ReviewItem) -> AddressFields {
        let country = item
            .draft
            .as_ref()
            .and_then(|d| d.address.as_ref())
            .and_then(|a| a.country_code.clone())
            .unwrap_or_default();
        AddressFields {
            street: self.street.trim().to_owned(),
            house: self.house.trim().to_owned(),
            apartment: self.apartment.trim().to_owned(),
            postal_code: self.postal_code.trim().to_owned(),
            city: self.city.trim().to_owned(),
            country_code: country,
        }
    }
}

/// The form's fields as the draft's, and the old coordinates dropped: they placed the
/// address the customer just corrected.
trait AsFixes {
    fn as_fixes(&self) -> Vec<(String, String)>;
    fn one_line(&self) -> String;
}

impl AsFixes for AddressFields {
    fn as_fixes(&self) -> Vec<(String, String)> {
        // Text values as JSON strings, so "10115" stays text and "" stays empty text.
        let text = |v: &str| serde_json::Value::String(v.to_owned()).to_string();
        vec![
            ("address.street".into(), text(&self.street)),
            ("address.house".into(), text(&self.house)),
            ("address.apartment".into(), text(&self.apartment)),
            ("address.postal_code".into(), text(&self.postal_code)),
            ("address.city".into(), text(&self.city)),
            ("address.latitude".into(), "null".into()),
            ("address.longitude".into(), "null".into()),
        ]
    }

    fn one_line(&self) -> String {
        let street = [self.street.as_str(), self.house.as_str()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let place = [self.postal_code.as_str(), self.city.as_str()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        [
            street.as_str(),
            self.apartment.as_str(),
            place.as_str(),
            self.country_code.as_str(),
        ]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

//! The shipments: a search (`GET /console/shipments`: a tracking number, an order of a
//! store, or a day's shipments narrowed to a store or a status, a page at a time from the
//! shipments table's indexes) and a shipment's timeline (`GET /console/shipments/{key}`),
//! read through `domain::timeline`, as `courier-bridge shipment show` reads it.

use crate::{page, unavailable, App};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::ports::{ShipmentFind, ShipmentQuery};
use domain::{Channel, ShipmentKey, ShipmentStatus};
use pages::console::ShipmentSearch;

/// Shipments a page: one screen, one query of an index (a filtered day may take a few).
const PAGE_SIZE: u32 = 25;

/// What the form asks for, checked: the index search and the list's heading; or why it
/// cannot be made, in words. A number with a store is an order (else a tracking number);
/// no number lists the day (today, UTC, when none is given).
fn find(search: &ShipmentSearch, today: &str) -> Result<(ShipmentFind, String), String> {
    let number = search.number.trim();
    let store = store(search)?;
    if !number.is_empty() {
        return Ok(match store {
            Some((channel, store)) => {
                // "#1001" as stores print it is the order 1001.
                let order_id = number.trim_start_matches('#').to_owned();
                let heading = format!("Order {order_id} of {channel}/{store}");
                (
                    ShipmentFind::Order {
                        channel,
                        store,
                        order_id,
                    },
                    heading,
                )
            }
            None => (
                ShipmentFind::Tracking(number.to_owned()),
                format!("Tracking number {number}"),
            ),
        });
    }
    let day = match search.day.trim() {
        "" => today.to_owned(),
        day if domain::cod::parse_day(day).is_some() => day.to_owned(),
        day => return Err(format!("{day:?} is not a day (YYYY-MM-DD).")),
    };
    let status = match search.status.trim() {
        "" => None,
        status => Some(
            ShipmentStatus::ALL
                .into_iter()
                .find(|known| known.as_str() == status)
                .ok_or_else(|| format!("{status:?} is not a shipment status."))?,
        ),
    };
    let mut heading = format!("Shipments of {day} (UTC)");
    if let Some((channel, store)) = &store {
        heading.push_str(&format!(", {channel}/{store}"));
    }
    if let Some(status) = status {
        heading.push_str(&format!(", {status}"));
    }
    heading.push_str(", newest first");
    Ok((ShipmentFind::Day { day, store, status }, heading))
}

/// The store the search names: both channel and store, or neither.
fn store(search: &ShipmentSearch) -> Result<Option<(Channel, String)>, String> {
    let (channel, store) = (search.channel.trim(), search.store.trim());
    match (channel.is_empty(), store.is_empty()) {
        (true, true) => Ok(None),
        (true, false) => Err("Choose the store's channel too.".into()),
        (false, true) => Err("Type the store's name too, or choose no channel.".into()),
        (false, false) => crate::stores::parse(channel, store)
            .map(|(channel, store)| Some((channel, store.to_owned()))),
    }
}

pub(crate) async fn list(
    State(app): State<App>,
    headers: HeaderMap,
    Query(search): Query<ShipmentSearch>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let today = domain::ports::utc_day(domain::clock::now_ms()).unwrap_or_default();
    let statuses: Vec<&str> = ShipmentStatus::ALL.iter().map(|s| s.as_str()).collect();
    let operator = signed.operator();
    let view = |heading, shipments: &[_], problem: Option<&str>, next| {
        pages::console::shipments(&pages::console::ShipmentsView {
            operator: &operator,
            search: &search,
            channels: &crate::stores::CHANNELS,
            statuses: &statuses,
            heading,
            shipments,
            problem,
            next,
        })
    };
    let (mut find, mut heading) = match find(&search, &today) {
        Ok(found) => found,
        Err(problem) => {
            return page(
                StatusCode::BAD_REQUEST,
                view(None, &[], Some(&problem), None),
            )
        }
    };
    let after = Some(search.after.clone()).filter(|a| !a.is_empty());
    let mut query = ShipmentQuery {
        find: find.clone(),
        limit: PAGE_SIZE,
        after: after.clone(),
    };
    let mut found = app.shipments.search(&query).await;
    // A number typed with a store may still be a tracking number.
    if let (Ok(page), ShipmentFind::Order { .. }, None) = (&found, &find, &after) {
        if page.shipments.is_empty() {
            let number = search.number.trim().to_owned();
            heading = format!("Tracking number {number}");
            find = ShipmentFind::Tracking(number);
            query.find = find.clone();
            found = app.shipments.search(&query).await;
        }
    }
    match found {
        Ok(found) => {
            let next = found
                .next
                .as_deref()
                .map(|cursor| search.link_after(cursor));
            page(
                StatusCode::OK,
                view(Some(heading), &found.shipments, None, next),
            )
        }
        Err(error) => {
            tracing::error!(%error, "shipment search failed");
            unavailable()
        }
    }
}

pub(crate) async fn show(
    State(app): State<App>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let Ok(key) = key.parse::<ShipmentKey>() else {
        return crate::not_found().await;
    };
    match domain::timeline::read(
        app.shipments.as_ref(),
        app.history.as_ref(),
        app.outbox.as_ref(),
        &key,
    )
    .await
    {
        Ok(Some(timeline)) => page(
            StatusCode::OK,
            pages::console::shipment(&signed.operator(), &timeline),
        ),
        Ok(None) => crate::not_found().await,
        Err(error) => {
            tracing::error!(%error, shipment = %key, "timeline unreadable");
            unavailable()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(number: &str, channel: &str, store: &str, day: &str, status: &str) -> ShipmentSearch {
        ShipmentSearch {
            number: number.into(),
            channel: channel.into(),
            store: store.into(),
            day: day.into(),
            status: status.into(),
            after: String::new(),
        }
    }

    #[test]
    fn a_number_alone_is_a_tracking_number_and_with_a_store_an_order() {
        let (found, _) = find(&search(" 1Z999 ", "", "", "", ""), "2026-12-06").unwrap();
        assert_eq!(found, ShipmentFind::Tracking("1Z999".into()));
        let (found, heading) =
            find(&search("#1001", "shopify", "demo", "", ""), "2026-12-06").unwrap();
        assert_eq!(
            found,
            ShipmentFind::Order {
                channel: Channel::Shopify,
                store: "demo".into(),
                order_id: "1001".into()
            }
        );
        assert_eq!(heading, "Order 1001 of shopify/demo");
    }

    #[test]
    fn no_number_lists_a_day_today_by_default() {
        let (found, _) = find(&search("", "", "", "", ""), "2026-12-06").unwrap();
        assert_eq!(
            found,
            ShipmentFind::Day {
                day: "2026-12-06".into(),
                store: None,
                status: None
            }
        );
        let (found, heading) = find(
            &search("", "woocommerce", "shop-1", "2026-11-30", "Delivered"),
            "2026-12-06",
        )
        .unwrap();
        assert_eq!(
            found,
            ShipmentFind::Day {
                day: "2026-11-30".into(),
                store: Some((Channel::WooCommerce, "shop-1".into())),
                status: Some(ShipmentStatus::Delivered)
            }
        );
        assert!(heading.contains("2026-11-30") && heading.contains("Delivered"));
    }

    #[test]
    fn a_search_that_cannot_be_made_says_why() {
        let today = "2026-12-06";
        for (bad, why) in [
            (search("", "", "", "06/12/2026", ""), "is not a day"),
            (search("", "", "", "", "Lost"), "is not a shipment status"),
            (search("", "", "shop", "", ""), "channel too"),
            (search("", "shopify", "", "", ""), "store's name too"),
            (search("", "ebay", "shop", "", ""), "is not a channel"),
            (
                search("", "shopify", "Shop A", "", ""),
                "is not a store name",
            ),
        ] {
            let problem = find(&bad, today).unwrap_err();
            assert!(problem.contains(why), "{bad:?}: {problem}");
        }
    }
}

//! A shipment's timeline (`GET /console/shipments/{key}`), linked from its review items:
//! read through `domain::timeline`, as `courier-bridge shipment show` reads it.

use crate::{page, unavailable, App};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::ShipmentKey;

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

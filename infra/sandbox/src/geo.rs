//! A fake of Amazon Location Service's Places API, `Geocode` (`POST /v2/geocode`; also
//! `POST /geocode`, the path SDKs generated before AWS moved `/v2` into the operation send
//! to a custom endpoint). The contract's shapes, with no map behind them: every address is
//! placed at a point derived from its text near an anchor city of its country, so the same
//! address always lands in the same place and different ones spread over some 15 km.
//!
//! Landmark addresses (no house number: "Opposite Sarit Centre, Westlands") are placed too,
//! as a street-level match. Two documented triggers provoke the other answers:
//! postal code `00000` finds nothing; postal code `99999` finds two places scoring alike.
//! docs/sandbox-courier-api.md, Appendix E.

use axum::body::Bytes;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The postal code no place has.
pub const GEOCODE_NOT_FOUND_POSTAL_CODE: &str = "00000";
/// The postal code two places share equally.
pub const GEOCODE_AMBIGUOUS_POSTAL_CODE: &str = "99999";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/geocode", post(geocode))
        .route("/geocode", post(geocode))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GeocodeRequest {
    #[serde(default)]
    query_text: Option<String>,
    #[serde(default)]
    query_components: Option<Components>,
    #[serde(default)]
    max_results: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Components {
    country: Option<String>,
    region: Option<String>,
    locality: Option<String>,
    postal_code: Option<String>,
    street: Option<String>,
    address_number: Option<String>,
}

/// Anchor cities by ISO 3166 alpha-2 and alpha-3 code, (lat, lon).
const ANCHORS: &[(&str, &str, f64, f64)] = &[
    ("DE", "DEU", 52.5200, 13.4050),
    ("US", "USA", 40.7128, -74.0060),
    ("GB", "GBR", 51.5074, -0.1278),
    ("FR", "FRA", 48.8566, 2.3522),
    ("ES", "ESP", 40.4168, -3.7038),
    ("IT", "ITA", 41.9028, 12.4964),
    ("NL", "NLD", 52.3676, 4.9041),
    ("IN", "IND", 12.9716, 77.5946),
    ("NG", "NGA", 6.5244, 3.3792),
    ("KE", "KEN", -1.2921, 36.8219),
    ("JP", "JPN", 35.6762, 139.6503),
    ("AE", "ARE", 25.2048, 55.2708),
    ("SA", "SAU", 24.7136, 46.6753),
    ("BR", "BRA", -23.5505, -46.6333),
    ("MX", "MEX", 19.4326, -99.1332),
    ("CA", "CAN", 43.6532, -79.3832),
    ("AU", "AUS", -33.8688, 151.2093),
];

/// Why Amazon Location refuses a request: a `ValidationException`'s `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// A member the model requires is absent.
    Missing,
    /// A member the operation does not have.
    UnknownField,
    /// Not JSON, or a member of the wrong JSON type.
    CannotParse,
    /// A member out of its range, pattern or size.
    FieldValidationFailed,
    /// The members together ask for something the service does not do.
    Other,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "Missing",
            Reason::UnknownField => "UnknownField",
            Reason::CannotParse => "CannotParse",
            Reason::FieldValidationFailed => "FieldValidationFailed",
            Reason::Other => "Other",
        }
    }
}

/// A refused request, answered as Amazon Location answers it: `400`, `x-amzn-ErrorType:
/// ValidationException`, `{"message", "reason", "fieldList": [{"name", "message"}]}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Invalid {
    pub(crate) reason: Reason,
    /// The members at fault, as paths (`Origins[3].Position`).
    pub(crate) fields: Vec<String>,
    pub(crate) message: String,
}

impl Invalid {
    pub(crate) fn new(
        reason: Reason,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Invalid {
            reason,
            fields: vec![field.into()],
            message: message.into(),
        }
    }
}

impl IntoResponse for Invalid {
    fn into_response(self) -> Response {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|name| json!({"name": name, "message": self.message}))
            .collect();
        (
            StatusCode::BAD_REQUEST,
            [(
                HeaderName::from_static("x-amzn-errortype"),
                "ValidationException",
            )],
            Json(json!({
                "message": self.message,
                "reason": self.reason.as_str(),
                "fieldList": fields
            })),
        )
            .into_response()
    }
}

fn validation(message: &str, field: &str) -> Response {
    Invalid::new(Reason::FieldValidationFailed, field, message).into_response()
}

async fn geocode(body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<GeocodeRequest>(&body) else {
        return Invalid::new(
            Reason::CannotParse,
            "body",
            "the request body is not a GeocodeRequest",
        )
        .into_response();
    };
    let components = request.query_components.unwrap_or_default();
    let text = request.query_text.unwrap_or_default();
    let parts = [
        components.address_number.as_deref(),
        components.street.as_deref(),
        components.postal_code.as_deref(),
        components.locality.as_deref(),
        components.region.as_deref(),
        Some(text.as_str()),
    ];
    if parts.iter().flatten().all(|p| p.trim().is_empty()) {
        return validation("QueryText or QueryComponents is required", "QueryText");
    }
    let max = request.max_results.unwrap_or(20).clamp(1, 100) as usize;
    let postal = components
        .postal_code
        .as_deref()
        .map(str::trim)
        .unwrap_or("");
    let country = components
        .country
        .as_deref()
        .unwrap_or("")
        .to_ascii_uppercase();
    let anchor = ANCHORS
        .iter()
        .find(|(two, three, ..)| *two == country || *three == country)
        .map_or((51.4779, -0.0015), |(_, _, lat, lon)| (*lat, *lon));
    let key: String = parts
        .iter()
        .flatten()
        .map(|p| p.trim().to_lowercase())
        .collect::<Vec<_>>()
        .join("|");
    let items: Vec<Value> = match postal {
        GEOCODE_NOT_FOUND_POSTAL_CODE => Vec::new(),
        GEOCODE_AMBIGUOUS_POSTAL_CODE => vec![
            item(
                &components,
                place(anchor, &format!("{key}|a")),
                0.70,
                "Street",
            ),
            item(
                &components,
                place(anchor, &format!("{key}|b")),
                0.69,
                "Street",
            ),
        ],
        _ => {
            let numbered = components
                .address_number
                .as_deref()
                .is_some_and(|n| !n.trim().is_empty());
            let (score, kind) = if numbered {
                (0.97, "PointAddress")
            } else {
                (0.85, "Street")
            };
            vec![item(&components, place(anchor, &key), score, kind)]
        }
    };
    let items: Vec<Value> = items.into_iter().take(max).collect();
    (
        StatusCode::OK,
        [(HeaderName::from_static("x-amz-geo-pricing-bucket"), "Core")],
        Json(json!({ "ResultItems": items })),
    )
        .into_response()
}

/// A point within about 8 km of `anchor`, fixed by the text of `key`.
fn place(anchor: (f64, f64), key: &str) -> (f64, f64) {
    let digest = Sha256::digest(key.as_bytes());
    let unit = |i: usize| f64::from(u16::from_be_bytes([digest[i], digest[i + 1]])) / 65_535.;
    let lat = anchor.0 + (unit(0) - 0.5) * 0.14;
    let lon = anchor.1 + (unit(2) - 0.5) * 0.14 / anchor.0.to_radians().cos().max(0.2);
    (lat, lon)
}

fn item(c: &Components, (lat, lon): (f64, f64), overall: f64, kind: &str) -> Value {
    let label = [
        c.street.clone(),
        c.address_number.clone(),
        c.postal_code.clone(),
        c.locality.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    json!({
        "PlaceId": format!("sandbox-{}", &hex::encode(Sha256::digest(format!("{lat},{lon}")))[..32]),
        "PlaceType": kind,
        "Title": label,
        "Address": {
            "Label": label,
            "Locality": c.locality,
            "PostalCode": c.postal_code,
            "Street": c.street,
            "AddressNumber": c.address_number,
        },
        "Position": [lon, lat],
        "MatchScores": {"Overall": overall}
    })
}

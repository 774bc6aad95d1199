//! The domain's [`Geocoder`] on Amazon Location Service's Places API, `Geocode`
//! (`POST /v2/geocode`, <https://docs.aws.amazon.com/location/latest/APIReference/API_geoplaces_Geocode.html>).
//!
//! The address goes as structured `QueryComponents` (country, region, locality, postal
//! code, street, house number), filtered to its country, asking for two results: the
//! second one is how an ambiguous address shows. Each result carries `MatchScores.Overall`
//! (0–1, how well it matches the query) and `Position` as `[longitude, latitude]`.
//!
//! - No result, or a best result scoring under [`FOUND`]: not found.
//! - A best result under [`CERTAIN`] with a second one within [`TIE`] of it: ambiguous.
//! - Otherwise the best result's position.
//!
//! Errors ([`call_failed`], shared with the [`routes`] adapter): throttling and 5xx are
//! transient; a refused request (validation, access) is permanent.

pub mod routes;

pub use routes::AmazonLocationRouter;

use async_trait::async_trait;
use aws_sdk_geoplaces::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_geoplaces::types::{GeocodeFilter, GeocodeQueryComponents};
use domain::dispatch::GeoPoint;
use domain::ports::{Geocoder, Placement};
use domain::{Address, PartnerError};

const PARTNER: &str = "amazon-location";
/// Below this, the best result is not the address (a street or town only loosely like it).
const FOUND: f64 = 0.5;
/// At or above this, the best result is the address, whatever comes second.
const CERTAIN: f64 = 0.95;
/// Two results this close in score match the address equally well.
const TIE: f64 = 0.05;

pub struct AmazonLocationGeocoder {
    client: aws_sdk_geoplaces::Client,
}

impl AmazonLocationGeocoder {
    /// `endpoint`: another endpoint than Amazon Location's own (a local fake).
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: Option<&str>) -> AmazonLocationGeocoder {
        let mut config = aws_sdk_geoplaces::config::Builder::from(sdk);
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        AmazonLocationGeocoder {
            client: aws_sdk_geoplaces::Client::from_conf(config.build()),
        }
    }
}

/// The address's parts, as the query's components.
fn components(address: &Address) -> GeocodeQueryComponents {
    GeocodeQueryComponents::builder()
        .country(&address.country_code)
        .set_region(address.region.clone())
        .locality(&address.city)
        .set_postal_code(address.postal_code.clone())
        .street(&address.street)
        .set_address_number(address.house.clone())
        .build()
}

fn describe(address: &Address) -> String {
    [
        Some(address.street_line()),
        address.postal_code.clone(),
        Some(address.city.clone()),
        Some(address.country_code.clone()),
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.trim().is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// The answer for the results' (score, position) pairs, best first.
pub fn decide(address: &Address, results: &[(f64, Option<GeoPoint>)]) -> Placement {
    let place = describe(address);
    match results {
        [] => Placement::NotFound {
            message: format!("no place matches {place}"),
        },
        [(best, _), ..] if *best < FOUND => Placement::NotFound {
            message: format!("nothing matches {place} well (best match {best:.2})"),
        },
        [(best, _), (second, _), ..] if *best < CERTAIN && best - second <= TIE => {
            Placement::Ambiguous {
                message: format!("{place} matches several places ({best:.2} and {second:.2})"),
            }
        }
        [(_, Some(point)), ..] => Placement::Placed(*point),
        [(_, None), ..] => Placement::NotFound {
            message: format!("the match for {place} has no position"),
        },
    }
}

/// A failed call to Amazon Location (either API; every operation of both has the same
/// errors). No answer or a 5xx: unavailable. 429 (`ThrottlingException`): throttled. Any
/// other refusal (`ValidationException`, `AccessDeniedException`) is permanent, with the
/// service's code and message. Both APIs only read, so a call that may have arrived is
/// safe to repeat: never ambiguous.
pub(crate) fn call_failed<E>(e: &SdkError<E>) -> PartnerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = match e.message() {
        Some(m) => format!("{}: {m}", e.code().unwrap_or("error")),
        None => DisplayErrorContext(e).to_string(),
    };
    match e.raw_response().map(|r| r.status()) {
        Some(status) if status.as_u16() == 429 => PartnerError::Throttled {
            partner: PARTNER,
            retry_after: None,
        },
        Some(status) if !status.is_server_error() => {
            PartnerError::rejected(PARTNER, status.as_u16().to_string(), message)
        }
        _ => PartnerError::unavailable(PARTNER, message),
    }
}

#[async_trait]
impl Geocoder for AmazonLocationGeocoder {
    async fn geocode(&self, address: &Address) -> Result<Placement, PartnerError> {
        let answer = self
            .client
            .geocode()
            .query_components(components(address))
            .filter(
                GeocodeFilter::builder()
                    .include_countries(&address.country_code)
                    .build(),
            )
            .max_results(2)
            .send()
            .await
            .map_err(|e| call_failed(&e))?;
        let mut results: Vec<(f64, Option<GeoPoint>)> = answer
            .result_items()
            .iter()
            .map(|item| {
                let score = item.match_scores().map_or(0., |scores| scores.overall());
                let point = match item.position() {
                    [lon, lat] => Some(GeoPoint {
                        lat: *lat,
                        lon: *lon,
                    })
                    .filter(GeoPoint::is_valid),
                    _ => None,
                };
                (score, point)
            })
            .collect();
        results.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(decide(address, &results))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_georoutes::config::http::HttpResponse;
    use aws_sdk_georoutes::error::ErrorMetadata;
    use aws_sdk_georoutes::operation::calculate_route_matrix::CalculateRouteMatrixError;
    use domain::error::Classify;

    /// A failed call: answered with `status` and the error `code`, or never answered.
    fn failed(status: Option<u16>, code: &str) -> PartnerError {
        let meta = ErrorMetadata::builder().code(code).message("why").build();
        let error = CalculateRouteMatrixError::generic(meta);
        let e = match status {
            Some(status) => SdkError::service_error(
                error,
                HttpResponse::new(status.try_into().expect("a status"), "{}".into()),
            ),
            None => SdkError::timeout_error("no answer in time"),
        };
        call_failed(&e)
    }

    #[test]
    fn throttling_and_no_answer_are_transient_and_a_refusal_is_permanent() {
        assert_eq!(
            failed(Some(429), "ThrottlingException"),
            PartnerError::Throttled {
                partner: PARTNER,
                retry_after: None
            }
        );
        assert!(matches!(
            failed(Some(500), "InternalServerException"),
            PartnerError::Unavailable { message, .. } if message == "InternalServerException: why"
        ));
        assert!(matches!(failed(None, ""), PartnerError::Unavailable { .. }));
        for (status, code) in [(400, "ValidationException"), (403, "AccessDeniedException")] {
            let error = failed(Some(status), code);
            assert!(!error.is_transient(), "{error}");
            assert_eq!(error.rejected_status(), Some(status));
            assert!(
                error.to_string().contains(&format!("{code}: why")),
                "{error}"
            );
        }
    }

    fn address() -> Address {
        serde_json::from_value(serde_json::json!({
            "street": "Torstraße", "house": "1", "city": "Berlin",
            "postal_code": "10119", "country_code": "DE"
        }))
        .unwrap()
    }

    #[test]
    fn the_best_match_is_placed_unless_nothing_or_two_places_match() {
        let here = GeoPoint {
            lat: 52.53,
            lon: 13.40,
        };
        let there = GeoPoint {
            lat: 52.40,
            lon: 13.10,
        };
        assert_eq!(
            decide(&address(), &[(0.98, Some(here)), (0.97, Some(there))]),
            Placement::Placed(here)
        );
        assert_eq!(
            decide(&address(), &[(0.8, Some(here)), (0.5, Some(there))]),
            Placement::Placed(here)
        );
        assert!(matches!(
            decide(&address(), &[(0.8, Some(here)), (0.78, Some(there))]),
            Placement::Ambiguous { message } if message.contains("Torstraße 1, 10119, Berlin, DE")
        ));
        assert!(matches!(
            decide(&address(), &[]),
            Placement::NotFound { .. }
        ));
        assert!(matches!(
            decide(&address(), &[(0.3, Some(here))]),
            Placement::NotFound { .. }
        ));
        assert!(matches!(
            decide(&address(), &[(0.9, None)]),
            Placement::NotFound { .. }
        ));
    }
}

//! The fake of Amazon Location's `Geocode` (docs/sandbox-courier-api.md, Appendix E): the
//! contract's shapes, stable answers, landmarks placed, and the two documented triggers.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{body_json, start};

async fn geocode(base: &str, path: &str, body: Value) -> (StatusCode, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("the sandbox answers");
    let status = response.status();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, error_type, body_json(response).await)
}

fn query(street: &str, number: Option<&str>, postal: &str) -> Value {
    json!({
        "QueryComponents": {"Country": "KE", "Locality": "Nairobi", "PostalCode": postal,
                            "Street": street, "AddressNumber": number},
        "Filter": {"IncludeCountries": ["KE"]},
        "MaxResults": 2
    })
}

#[tokio::test]
async fn an_address_is_placed_the_same_way_every_time_on_either_path_near_its_country() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let (status, _, first) = geocode(
        &base,
        "/v2/geocode",
        query("Waiyaki Way", Some("12"), "00600"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (_, _, again) = geocode(&base, "/geocode", query("Waiyaki Way", Some("12"), "00600")).await;
    assert_eq!(first, again);
    let item = &first["ResultItems"][0];
    assert_eq!(item["PlaceType"], "PointAddress");
    assert!(item["MatchScores"]["Overall"].as_f64().unwrap() > 0.95);
    let [lon, lat] = [
        item["Position"][0].as_f64().unwrap(),
        item["Position"][1].as_f64().unwrap(),
    ];
    assert!(
        (lat - -1.2921).abs() < 0.1 && (lon - 36.8219).abs() < 0.1,
        "[lon, lat] = [{lon}, {lat}]"
    );

    let (_, _, other) = geocode(
        &base,
        "/v2/geocode",
        query("Waiyaki Way", Some("14"), "00600"),
    )
    .await;
    assert_ne!(other["ResultItems"][0]["Position"], item["Position"]);
}

#[tokio::test]
async fn landmarks_are_placed_and_the_documented_postal_codes_find_nothing_or_two_places() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let (_, _, landmark) = geocode(
        &base,
        "/v2/geocode",
        query("Opposite Sarit Centre, Westlands", None, "00800"),
    )
    .await;
    assert_eq!(landmark["ResultItems"].as_array().unwrap().len(), 1);
    assert_eq!(landmark["ResultItems"][0]["PlaceType"], "Street");

    let (status, _, none) = geocode(
        &base,
        "/v2/geocode",
        query("Waiyaki Way", Some("12"), "00000"),
    )
    .await;
    assert_eq!((status, none), (StatusCode::OK, json!({"ResultItems": []})));
    let (_, _, two) = geocode(
        &base,
        "/v2/geocode",
        query("Waiyaki Way", Some("12"), "99999"),
    )
    .await;
    let scores: Vec<f64> = two["ResultItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["MatchScores"]["Overall"].as_f64().unwrap())
        .collect();
    assert_eq!(scores.len(), 2);
    assert!((scores[0] - scores[1]).abs() < 0.05);

    let (status, error_type, error) = geocode(&base, "/v2/geocode", json!({"MaxResults": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type.as_deref(), Some("ValidationException"));
    assert_eq!(error["reason"], "FieldValidationFailed");
    assert_eq!(error["fieldList"][0]["name"], "QueryText");
    let (status, _, error) = geocode(&base, "/v2/geocode", json!(["not", "a", "query"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["reason"], "CannotParse");
}

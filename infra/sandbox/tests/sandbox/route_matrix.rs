//! The fake of Amazon Location's `CalculateRouteMatrix` (docs/sandbox-courier-api.md,
//! Appendix F): the contract's shapes on either path, the documented roads and speeds, the
//! limits per routing boundary, and Null Island's missing roads.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{body_json, start};

struct Answer {
    status: StatusCode,
    error_type: Option<String>,
    pricing_bucket: Option<String>,
    body: Value,
}

async fn matrix(base: &str, path: &str, body: Value) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("the sandbox answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Answer {
        status: response.status(),
        error_type: header("x-amzn-errortype"),
        pricing_bucket: header("x-amz-geo-pricing-bucket"),
        body: body_json(response).await,
    }
}

/// `[lng, lat]` each as `{"Position": ...}`.
fn places(positions: &[[f64; 2]]) -> Value {
    positions
        .iter()
        .map(|p| json!({"Position": p}))
        .collect::<Vec<_>>()
        .into()
}

fn square(positions: &[[f64; 2]], boundary: Value) -> Value {
    json!({"Origins": places(positions), "Destinations": places(positions),
           "RoutingBoundary": boundary})
}

/// The great circle (haversine, mean earth radius 6,371,008.8 m), as documented.
fn haversine([lng1, lat1]: [f64; 2], [lng2, lat2]: [f64; 2]) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let h = ((p2 - p1) / 2.).sin().powi(2)
        + p1.cos() * p2.cos() * ((lng2 - lng1).to_radians() / 2.).sin().powi(2);
    2. * 6_371_008.8 * h.sqrt().asin()
}

const BERLIN: [[f64; 2]; 3] = [[13.4050, 52.5200], [13.3777, 52.5163], [13.4541, 52.5008]];

#[tokio::test]
async fn a_matrix_is_the_great_circle_times_1_3_at_the_modes_speed_on_either_path() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let mut body = square(&BERLIN, json!({"Unbounded": true}));
    body["TravelMode"] = json!("Truck");
    body["DepartureTime"] = json!("2026-12-07T09:00:00Z");
    let answer = matrix(&base, "/v2/route-matrix", body.clone()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.pricing_bucket.as_deref(), Some("Standard"));
    assert_eq!(answer.body["ErrorCount"], 0);
    assert_eq!(answer.body["RoutingBoundary"], json!({"Unbounded": true}));
    let rows = answer.body["RouteMatrix"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_array().expect("a row");
        assert_eq!(row.len(), 3);
        for (j, entry) in row.iter().enumerate() {
            let distance = entry["Distance"].as_f64().expect("a distance");
            let expected = haversine(BERLIN[i], BERLIN[j]) * 1.3;
            assert!(
                (distance - expected).abs() <= 1.,
                "{i}→{j}: {distance} vs {expected}"
            );
            // Truck: 25 km/h.
            let duration = entry["Duration"].as_f64().expect("a duration");
            assert!(
                (duration - distance / (25. / 3.6)).abs() <= 1.,
                "{i}→{j}: {duration} s"
            );
            assert!(entry.get("Error").is_none());
        }
        assert_eq!(row[i], json!({"Distance": 0, "Duration": 0}));
    }
    assert!(rows[0][1]["Distance"].as_i64() > Some(1_000));

    let old_path = matrix(&base, "/route-matrix", body).await;
    assert_eq!(old_path.body, answer.body);
    let paths: Vec<String> = sandbox
        .route_matrix_calls()
        .into_iter()
        .map(|c| c.path)
        .collect();
    assert_eq!(paths, ["/v2/route-matrix", "/route-matrix"]);
    let call = &sandbox.route_matrix_calls()[0];
    assert_eq!((call.origins, call.destinations), (3, 3));
    assert_eq!(call.travel_mode, "Truck");
    assert_eq!(call.departure_time.as_deref(), Some("2026-12-07T09:00:00Z"));
}

#[tokio::test]
async fn each_mode_has_its_documented_speed_and_car_is_the_default() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    for (mode, km_h) in [
        (None, 30.),
        (Some("Car"), 30.),
        (Some("Pedestrian"), 5.),
        (Some("Scooter"), 25.),
        (Some("Truck"), 25.),
    ] {
        let mut body = square(&BERLIN[..2], json!({"Unbounded": true}));
        if let Some(mode) = mode {
            body["TravelMode"] = json!(mode);
        }
        let answer = matrix(&base, "/v2/route-matrix", body).await;
        let entry = &answer.body["RouteMatrix"][0][1];
        let distance = entry["Distance"].as_f64().expect("a distance");
        let duration = entry["Duration"].as_f64().expect("a duration");
        assert_eq!(duration, (distance / (km_h / 3.6)).round(), "{mode:?}");
    }
}

#[tokio::test]
async fn a_bounding_box_is_echoed_and_a_place_outside_it_is_out_of_bounds() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let bbox = json!([13.30, 52.45, 13.50, 52.60]);
    let mut places = BERLIN.to_vec();
    places.push([13.0645, 52.3906]); // Potsdam, outside.
    let answer = matrix(
        &base,
        "/v2/route-matrix",
        square(&places, json!({"Geometry": {"BoundingBox": bbox}})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["RoutingBoundary"],
        json!({"Geometry": {"BoundingBox": bbox}})
    );
    // Row and column 3 touch Potsdam: 4 + 4 - 1 entries.
    assert_eq!(answer.body["ErrorCount"], 7);
    assert_eq!(
        answer.body["RouteMatrix"][0][3],
        json!({"Distance": 0, "Duration": 0, "Error": "OutOfBounds"})
    );
    assert!(answer.body["RouteMatrix"][0][1].get("Error").is_none());
}

#[tokio::test]
async fn a_place_on_null_island_has_no_road_to_or_from_anywhere() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    // [0, 0] itself, and a place 550 m from it.
    let places = [BERLIN[0], [0., 0.], [0.005, 0.], BERLIN[1]];
    let answer = matrix(
        &base,
        "/route-matrix",
        square(&places, json!({"Unbounded": true})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // Rows and columns 1 and 2: 16 - 2 × 2 road pairs.
    assert_eq!(answer.body["ErrorCount"], 12);
    let no_match = json!({"Distance": 0, "Duration": 0, "Error": "NoMatch"});
    for (i, j) in [(0, 1), (1, 0), (1, 1), (2, 3), (3, 2), (1, 2)] {
        assert_eq!(answer.body["RouteMatrix"][i][j], no_match, "{i}→{j}");
    }
    assert!(answer.body["RouteMatrix"][0][3].get("Error").is_none());
}

async fn refused(base: &str, body: Value) -> (String, Vec<String>) {
    let answer = matrix(base, "/v2/route-matrix", body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.error_type.as_deref(), Some("ValidationException"));
    assert!(answer.body["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    let fields = answer.body["fieldList"]
        .as_array()
        .expect("a fieldList")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    (
        answer.body["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        fields,
    )
}

fn grid(n: usize) -> Vec<[f64; 2]> {
    (0..n).map(|i| [13.30 + 0.001 * i as f64, 52.50]).collect()
}

fn request(origins: usize, destinations: usize, boundary: Value) -> Value {
    json!({"Origins": places(&grid(origins)), "Destinations": places(&grid(destinations)),
           "RoutingBoundary": boundary})
}

#[tokio::test]
async fn the_limits_of_each_boundary_are_refused_naming_the_field() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let unbounded = json!({"Unbounded": true});
    let bbox = json!({"Geometry": {"BoundingBox": [13.2, 52.4, 13.9, 52.6]}});
    let invalid = |fields: &[&str]| {
        (
            "FieldValidationFailed".to_owned(),
            fields.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        refused(&base, request(16, 1, unbounded.clone())).await,
        invalid(&["Origins"])
    );
    assert_eq!(
        refused(&base, request(1, 101, unbounded.clone())).await,
        invalid(&["Destinations"])
    );
    assert_eq!(
        refused(&base, request(11, 10, unbounded.clone())).await,
        invalid(&["Origins", "Destinations"])
    );
    assert_eq!(
        matrix(&base, "/v2/route-matrix", request(15, 6, unbounded.clone()))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        refused(&base, request(501, 1, bbox.clone())).await,
        invalid(&["Origins"])
    );
    assert_eq!(
        refused(&base, request(1, 501, bbox.clone())).await,
        invalid(&["Destinations"])
    );
    // Berlin to Munich is some 500 km.
    let far = json!({"Geometry": {"BoundingBox": [11.5, 48.1, 13.5, 52.6]}});
    assert_eq!(
        refused(&base, request(1, 1, far)).await,
        invalid(&["RoutingBoundary.Geometry.BoundingBox"])
    );
    let big = matrix(&base, "/v2/route-matrix", request(400, 400, bbox)).await;
    assert_eq!(big.status, StatusCode::OK);
    assert_eq!(big.body["RouteMatrix"].as_array().map(Vec::len), Some(400));
}

#[tokio::test]
async fn a_malformed_request_is_refused_with_the_reason_and_the_field() {
    let sandbox = start().await;
    let base = sandbox.base_url();
    let one = || places(&grid(1));
    let cases = [
        (json!({"Destinations": one()}), "Missing", "Origins"),
        (
            json!({"Origins": [], "Destinations": one()}),
            "FieldValidationFailed",
            "Origins",
        ),
        (
            json!({"Origins": one(), "Destinations": [{}]}),
            "Missing",
            "Destinations[0].Position",
        ),
        (
            json!({"Origins": [{"Position": [13.4]}], "Destinations": one()}),
            "FieldValidationFailed",
            "Origins[0].Position",
        ),
        (
            json!({"Origins": [{"Position": [52.5, 113.4]}], "Destinations": one()}),
            "FieldValidationFailed",
            "Origins[0].Position",
        ),
        (
            json!({"Origins": [{"Position": ["13.4", "52.5"]}], "Destinations": one()}),
            "CannotParse",
            "Origins[0].Position",
        ),
        (
            json!({"Origins": one(), "Destinations": one(), "TravelMode": "Bicycle"}),
            "FieldValidationFailed",
            "TravelMode",
        ),
        (
            json!({"Origins": one(), "Destinations": one(), "Origin": one()}),
            "UnknownField",
            "Origin",
        ),
        (
            json!({"Origins": one(), "Destinations": one(), "DepartureTime": "2026-12-07 09:00"}),
            "FieldValidationFailed",
            "DepartureTime",
        ),
        (
            json!({"Origins": one(), "Destinations": one(),
                   "RoutingBoundary": {"Unbounded": true, "Geometry": {"BoundingBox": [13.2, 52.4, 13.9, 52.6]}}}),
            "Other",
            "RoutingBoundary",
        ),
    ];
    for (body, reason, field) in cases {
        assert_eq!(
            refused(&base, body.clone()).await,
            (reason.to_owned(), vec![field.to_owned()]),
            "{body}"
        );
    }
    let answer = matrix(&base, "/v2/route-matrix", json!("not a request")).await;
    assert_eq!(answer.body["reason"], "CannotParse");
    // No RoutingBoundary: unbounded, as the current model has it.
    let answer = matrix(
        &base,
        "/v2/route-matrix",
        json!({"Origins": one(), "Destinations": one()}),
    )
    .await;
    assert_eq!(answer.body["RoutingBoundary"], json!({"Unbounded": true}));
    assert!(sandbox.route_matrix_calls().len() == 1);
}

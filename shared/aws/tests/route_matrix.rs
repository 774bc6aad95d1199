//! [`AmazonLocationRouter`] against the sandbox's fake of `CalculateRouteMatrix`
//! (docs/sandbox-courier-api.md, Appendix F): tiling into calls, the boundary chosen, the
//! legs the fake answers, Null Island's missing roads, a refusal.

use aws::geo::AmazonLocationRouter;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use domain::dispatch::{GeoPoint, VehicleType};
use domain::error::Classify;
use domain::ports::{Leg, RoadRouter};
use domain::PartnerError;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

/// 2026-12-07T09:00:00Z.
const DEPART_MS: i64 = 1_796_634_000_000;

async fn sandbox() -> Sandbox {
    let config = SandboxConfig {
        courier_api_key: "sbx_test_key".into(),
        shopify_access_token: "shpat_test".into(),
    };
    Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts on a free port")
}

/// As a function's: test credentials, the one HTTP client, no endpoint of its own.
fn sdk() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-central-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )))
        .http_client(aws::config::http_client())
        .build()
}

/// 25 places in Berlin, a few hundred metres to 8 km apart.
fn city() -> Vec<GeoPoint> {
    (0..25)
        .map(|i| GeoPoint {
            lat: 52.48 + 0.013 * (i % 5) as f64 + 0.0007 * i as f64,
            lon: 13.33 + 0.021 * (i / 5) as f64,
        })
        .collect()
}

fn haversine(a: GeoPoint, b: GeoPoint) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let h = ((p2 - p1) / 2.).sin().powi(2)
        + p1.cos() * p2.cos() * ((b.lon - a.lon).to_radians() / 2.).sin().powi(2);
    2. * 6_371_008.8 * h.sqrt().asin()
}

#[tokio::test]
async fn a_city_in_one_bounded_call_or_tiled_into_many_gives_the_fakes_roads() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url();
    let points = city();
    let whole = AmazonLocationRouter::new(&sdk(), Some(&base))
        .matrix(&points, VehicleType::Van, DEPART_MS)
        .await
        .expect("a matrix");
    let calls = sandbox.route_matrix_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].origins, calls[0].destinations), (25, 25));
    assert_eq!(calls[0].path, "/v2/route-matrix");
    assert_eq!(calls[0].travel_mode, "Car");
    assert_eq!(
        calls[0].departure_time.as_deref(),
        Some("2026-12-07T09:00:00Z")
    );
    let bbox = &calls[0].routing_boundary["Geometry"]["BoundingBox"];
    let corner = |i: usize| bbox[i].as_f64().expect("a bounding box");
    assert!(points.iter().all(|p| {
        (corner(0)..=corner(2)).contains(&p.lon) && (corner(1)..=corner(3)).contains(&p.lat)
    }));

    let tiled = AmazonLocationRouter::new(&sdk(), Some(&base))
        .with_block(7)
        .matrix(&points, VehicleType::Van, DEPART_MS)
        .await
        .expect("a matrix");
    let calls = sandbox.route_matrix_calls();
    // 4 × 4 blocks of at most 7 × 7, each in the same box.
    assert_eq!(calls.len(), 17);
    assert!(calls[1..].iter().all(|c| c.origins <= 7
        && c.destinations <= 7
        && c.routing_boundary == calls[0].routing_boundary));
    assert_eq!(tiled, whole);

    assert_eq!(whole.legs.len(), 625);
    for (k, leg) in whole.legs.iter().enumerate() {
        let (from, to) = (points[k / 25], points[k % 25]);
        let Leg::Road { metres, seconds } = *leg else {
            panic!("no road {} → {}", k / 25, k % 25);
        };
        assert!(
            (metres - haversine(from, to) * 1.3).abs() <= 1.,
            "{k}: {metres}"
        );
        // Car: 30 km/h.
        assert_eq!(seconds, (metres / (30. / 3.6)).round(), "{k}");
        if k / 25 == k % 25 {
            assert_eq!(metres, 0.);
        }
    }
}

#[tokio::test]
async fn points_far_apart_go_unbounded_ten_by_ten_and_null_island_has_no_road() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url();
    let mut points = city()[..11].to_vec();
    points.push(GeoPoint { lat: 0., lon: 0. });
    points.push(GeoPoint {
        lat: 48.137,
        lon: 11.575,
    }); // Munich.
    let n = points.len();
    let matrix = AmazonLocationRouter::new(&sdk(), Some(&base))
        .matrix(&points, VehicleType::Bicycle, DEPART_MS)
        .await
        .expect("a matrix");
    let calls = sandbox.route_matrix_calls();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|c| c.origins <= 10
        && c.destinations <= 10
        && c.routing_boundary == json!({"Unbounded": true})
        && c.travel_mode == "Scooter"));
    for (k, leg) in matrix.legs.iter().enumerate() {
        let touches_null_island = k / n == 11 || k % n == 11;
        assert_eq!(
            *leg == Leg::NoRoute,
            touches_null_island,
            "{} → {}: {leg:?}",
            k / n,
            k % n
        );
    }
    // Berlin to Munich, by scooter at 25 km/h: some 650 km of road.
    let Leg::Road { metres, seconds } = matrix.legs[12] else {
        panic!("no road to Munich");
    };
    assert!((600_000. ..700_000.).contains(&metres), "{metres}");
    assert_eq!(seconds, (metres / (25. / 3.6)).round());
}

#[tokio::test]
async fn a_refused_request_is_a_permanent_error_with_the_services_message() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url();
    let mut points = city()[..19].to_vec();
    points.push(GeoPoint {
        lat: 48.137,
        lon: 11.575,
    });
    // 20 origins in one unbounded call: the service takes 15.
    let error = AmazonLocationRouter::new(&sdk(), Some(&base))
        .with_block(20)
        .matrix(&points, VehicleType::Truck, DEPART_MS)
        .await
        .expect_err("refused");
    assert!(!error.is_transient(), "{error}");
    let PartnerError::Rejected { code, message, .. } = &error else {
        panic!("not a refusal: {error}");
    };
    assert_eq!(code, "400");
    assert!(
        message.starts_with("ValidationException: ") && message.contains("Origins"),
        "{message}"
    );
    assert!(sandbox.route_matrix_calls().is_empty());

    // No points: no call, no legs.
    let empty = AmazonLocationRouter::new(&sdk(), Some(&base))
        .matrix(&[], VehicleType::Car, DEPART_MS)
        .await
        .expect("an empty matrix");
    assert!(empty.legs.is_empty());
}

//! The fleet document: what a dispatcher writes, and every mistake named at once.

use domain::dispatch::{Fleet, GeoPoint};

const BERLIN: &str = r#"{
  "time_zone": "Europe/Berlin",
  "courier": "sandbox",
  "cut_off": "10:30",
  "zones": [
    {"name": "mitte", "postal_prefixes": ["101"]},
    {"name": "ring", "polygon": {"type": "Polygon", "coordinates": [
      [[13.30, 52.45], [13.50, 52.45], [13.50, 52.58], [13.30, 52.58], [13.30, 52.45]],
      [[13.38, 52.50], [13.42, 52.50], [13.42, 52.53], [13.38, 52.53], [13.38, 52.50]]
    ]}}
  ],
  "drivers": [
    {"id": "drv_01", "vehicle": "bicycle", "capacity": {"pieces": 12, "weight_g": 25000},
     "shift": {"start": "08:00", "end": "16:00"}, "start": {"lat": 52.52, "lon": 13.40},
     "zones": ["mitte"]},
    {"id": "drv_02", "vehicle": "van", "skills": ["oversized", "carries_cash"],
     "shift": {"start": "09:00", "end": "18:00"}, "start": {"lat": 52.52, "lon": 13.40},
     "end": {"lat": 52.52, "lon": 13.40}, "zones": ["ring"]}
  ],
  "pickups": [{"store": "shopify:demo-store", "name": "Lager Mitte",
               "location": {"lat": 52.53, "lon": 13.41}}]
}"#;

#[test]
fn a_valid_fleet_reads_with_its_defaults() {
    let fleet = Fleet::from_json(BERLIN).unwrap();
    assert_eq!(fleet.service_minutes, 5);
    assert_eq!(fleet.oversized.longest_side_mm, 1_200);
    assert_eq!(
        fleet.drivers[1].end,
        Some(GeoPoint {
            lat: 52.52,
            lon: 13.40
        })
    );
    assert_eq!(
        fleet
            .pickup_for("shopify:demo-store")
            .map(|p| p.name.as_str()),
        Some("Lager Mitte")
    );
    assert!(fleet.pickup_for("shopify:other").is_none());
}

#[test]
fn every_mistake_is_named_with_where_it_is() {
    let bad = BERLIN
        .replace("Europe/Berlin", "Europe/Atlantis")
        .replace("\"10:30\"", "\"10h30\"")
        .replace("\"16:00\"", "\"07:00\"")
        .replace("\"zones\": [\"ring\"]", "\"zones\": [\"ringg\"]")
        .replace(
            "\"lat\": 52.53, \"lon\": 13.41",
            "\"lat\": 13.41, \"lon\": 252.53",
        )
        .replace("\"id\": \"drv_02\"", "\"id\": \"drv_01\"");
    let err = Fleet::from_json(&bad).unwrap_err();
    let at: Vec<&str> = err.0.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "time_zone",
            "cut_off",
            "drivers[0].shift",
            "drivers[1].id",
            "drivers[1].zones",
            "pickups[0].location"
        ],
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("\"Europe/Atlantis\" is not an IANA time zone name"),
        "{text}"
    );
    assert!(
        text.contains("ends (07:00) before it starts (08:00)"),
        "{text}"
    );
    assert!(text.contains("no zone named \"ringg\""), "{text}");
}

#[test]
fn json_that_is_not_a_fleet_says_where_it_broke() {
    let err = Fleet::from_json(
        "{\"time_zone\": \"UTC\", \"courier\": \"sandbox\", \"drivers\": [], \"trucks\": 3}",
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `trucks`"), "{err}");
    let err = Fleet::from_json("{\"time_zone\": \"UTC\", \"courier\": \"dhl\", \"drivers\": []}")
        .unwrap_err();
    assert!(err.to_string().contains("dhl"), "{err}");
    let err =
        Fleet::from_json("{\"time_zone\": \"UTC\", \"courier\": \"sandbox\", \"drivers\": []}")
            .unwrap_err();
    assert_eq!(err.0[0].at, "drivers");
}

#[test]
fn a_zone_holds_a_stop_by_postal_prefix_or_inside_its_polygon_outside_its_holes() {
    let fleet = Fleet::from_json(BERLIN).unwrap();
    let (mitte, ring) = (&fleet.zones[0], &fleet.zones[1]);
    let far = GeoPoint {
        lat: 48.14,
        lon: 11.58,
    };
    assert!(mitte.holds(far, Some("10115")));
    assert!(!mitte.holds(far, Some("80331")));
    assert!(!mitte.holds(far, None));
    assert!(ring.holds(
        GeoPoint {
            lat: 52.46,
            lon: 13.31
        },
        None
    ));
    assert!(
        !ring.holds(
            GeoPoint {
                lat: 52.515,
                lon: 13.40
            },
            None
        ),
        "in the hole"
    );
    assert!(!ring.holds(far, None));

    let ids = |point, postal| -> Option<Vec<String>> {
        fleet
            .drivers_for(point, postal)
            .map(|drivers| drivers.iter().map(|d| d.id.clone()).collect())
    };
    assert_eq!(ids(far, Some("10115")), Some(vec!["drv_01".to_owned()]));
    assert_eq!(
        ids(
            GeoPoint {
                lat: 52.46,
                lon: 13.31
            },
            Some("12345")
        ),
        Some(vec!["drv_02".to_owned()])
    );
    assert_eq!(
        ids(far, Some("80331")),
        Some(Vec::new()),
        "outside every zone"
    );
}

#[test]
fn postal_prefixes_compare_without_spaces_or_case() {
    let fleet = Fleet::from_json(&BERLIN.replace("[\"101\"]", "[\"sw1a\"]")).unwrap();
    assert!(fleet.zones[0].holds(GeoPoint { lat: 0., lon: 0. }, Some("SW1A 1AA")));
}

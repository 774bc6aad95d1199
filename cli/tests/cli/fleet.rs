//! `courier-bridge fleet` and `courier-bridge dispatch`: a fleet is checked before it is
//! stored, a day is planned on demand, and its plan reads as a table per driver.

use crate::support::TestStack;
use cli::error::exit;
use domain::ports::ShipmentStore;
use domain::ShipmentStatus;

const FLEET: &str = r#"{
  "time_zone": "Asia/Kolkata",
  "courier": "sandbox",
  "drivers": [
    {"id": "drv_01", "name": "Asha", "vehicle": "scooter", "capacity": {"pieces": 20},
     "shift": {"start": "09:00", "end": "18:00"}, "start": {"lat": 12.9716, "lon": 77.5946},
     "end": {"lat": 12.9716, "lon": 77.5946}}
  ]
}"#;

fn write(stack: &TestStack, name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("{}-fleet", stack.name));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(name);
    std::fs::write(&file, text).expect("write fleet");
    file.to_str().expect("UTF-8 path").to_owned()
}

#[tokio::test]
async fn a_fleet_with_mistakes_is_refused_with_each_one_and_a_good_one_is_stored() {
    let stack = TestStack::create("cli-fleet").await;
    let err = stack.run(&["fleet", "show"]).await.unwrap_err();
    assert!(err.to_string().contains("no fleet is stored"), "{err}");

    let bad = FLEET
        .replace("Asia/Kolkata", "India/Bangalore")
        .replace("\"18:00\"", "\"08:00\"");
    let path = write(&stack, "bad.json", &bad);
    for command in ["check", "put"] {
        let err = stack
            .run(&["fleet", command, "--file", &path])
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), exit::USAGE, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("time_zone: \"India/Bangalore\" is not an IANA"),
            "{text}"
        );
        assert!(
            text.contains("drivers[0].shift: ends (08:00) before it starts (09:00)"),
            "{text}"
        );
    }
    let err = stack.run(&["fleet", "show"]).await.unwrap_err();
    assert!(
        err.to_string().contains("no fleet is stored"),
        "nothing was stored: {err}"
    );

    let path = write(&stack, "good.json", FLEET);
    let text = stack
        .run(&["fleet", "put", "--file", &path, "--by", "ana"])
        .await
        .unwrap();
    assert_eq!(
        text,
        "fleet stored: 1 drivers, 0 zones, 0 pickup points (Asia/Kolkata)"
    );
    let shown: serde_json::Value =
        serde_json::from_str(&stack.run(&["fleet", "show"]).await.unwrap()).unwrap();
    assert_eq!(shown["drivers"][0]["name"], "Asha");
    assert_eq!(
        shown["service_minutes"], 5,
        "defaults are stored explicitly"
    );
}

#[tokio::test]
async fn a_day_planned_on_demand_shows_as_a_table_per_driver_in_local_time() {
    let stack = TestStack::create("cli-dispatch").await;
    let path = write(&stack, "fleet.json", FLEET);
    stack.run(&["fleet", "put", "--file", &path]).await.unwrap();
    // Tomorrow in India: the whole shift lies ahead whenever the test runs.
    let day =
        domain::dispatch::PlanDay::containing(domain::clock::now_ms() + 86_400_000, "Asia/Kolkata")
            .unwrap()
            .day();
    let day = day.as_str();
    assert_eq!(
        stack
            .run(&["dispatch", "show", "--day", day])
            .await
            .unwrap(),
        format!("no plan for {day}")
    );

    // Two shipments with tasks in Bengaluru, waiting for a driver.
    for (n, (lat, lon)) in [(1, (12.9352, 77.6245)), (2, (12.9784, 77.6408))] {
        let mut shipment = fakes::sample::shipment("test-store", &format!("500{n}"));
        shipment.address.latitude = Some(lat);
        shipment.address.longitude = Some(lon);
        stack
            .stores
            .shipments
            .record(&shipment, 1_000, "in")
            .await
            .unwrap();
        let task = fakes::sample::task(n);
        stack
            .stores
            .shipments
            .record_task(&shipment.key, domain::CourierKind::Sandbox, &task)
            .await
            .unwrap();
        assert_eq!(
            stack
                .stores
                .shipments
                .get(&shipment.key)
                .await
                .unwrap()
                .unwrap()
                .status,
            ShipmentStatus::Created
        );
    }
    let courier = std::sync::Arc::new(fakes::FakeCourier::default());
    let couriers = fakes::FakeCouriers::new(courier.clone());
    let geo = cli::dispatch::Geo {
        geocoder: None,
        roads: None,
    };
    let ran = cli::dispatch::plan(&stack.stores, &couriers, geo, day, "ana", 5)
        .await
        .expect("planned");
    let text = cli::dispatch::render_ran(&ran);
    assert!(
        text.contains(&format!(
            "for {day} (Asia/Kolkata), by ana: 1 routes, 2 stops"
        )),
        "{text}"
    );
    assert_eq!(courier.routes()["drv_01"].len(), 2);

    let shown = stack
        .run(&["dispatch", "show", "--day", day])
        .await
        .unwrap();
    assert!(shown.contains("drv_01 (scooter) leaves 09:00"), "{shown}");
    for n in ["#5001", "#5002"] {
        assert!(shown.contains(n), "{shown}");
    }
    // Stops in local (India) time, from the shift's start on.
    let times: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("shopify:test-store"))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(times.len(), 2);
    assert!(
        times.iter().all(|t| *t >= "09:00" && *t < "10:00"),
        "{times:?}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &stack
            .run(&["dispatch", "show", "--day", day, "--json"])
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json[0]["routes"][0]["stops"].as_array().unwrap().len(), 2);

    // The plan's page: the routes drawn, the stops listed.
    let page = stack
        .run(&["dispatch", "page", "--day", day])
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains("<polyline class=\"route\" data-driver=\"drv_01\""),
        "{page}"
    );
    assert!(page.contains("#5001") && page.contains("#5002"));

    let err = stack
        .run(&["dispatch", "show", "--day", "7 Dec"])
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), exit::USAGE);
}

//! The DynamoDB conditional writes the pipeline rests on, against the emulator.

use channels::shopify;
use domain::idempotency::{Claim, Completion, IdempotencyStore};
use domain::record::Recorded;
use end_to_end::ports::*;
use end_to_end::{paid_order, Harness};
use futures::future::join_all;
use std::time::Duration;

fn shipment(city: &str) -> domain::Shipment {
    let mut order = paid_order(4_400_000_000_000_000_001);
    order["shipping_address"]["city"] = city.into();
    let order: shopify::Order = serde_json::from_value(order).unwrap();
    order
        .draft(end_to_end::STORE)
        .validate(&domain::StoreConfig::default())
        .unwrap()
}

/// The courier's answer the tests store on a shipment.
fn sandbox_task() -> domain::CourierTask {
    domain::CourierTask {
        task_id: "tsk_1".into(),
        tracking_number: "SBX1".into(),
        tracking_url: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_event_never_overwrites_newer_shipment_data() {
    let h = Harness::start("stale-guard", &[]).await;
    let store = &h.stores().shipments;
    let key = shipment("Berlin").key;

    assert!(matches!(
        store
            .record(&shipment("Berlin"), 2_000, "in-2")
            .await
            .unwrap(),
        Recorded::New
    ));
    // A late retry of an older payload: kept out.
    assert!(matches!(
        store
            .record(&shipment("Potsdam"), 1_000, "in-1")
            .await
            .unwrap(),
        Recorded::Kept(_)
    ));
    assert_eq!(
        store
            .get(&key)
            .await
            .unwrap()
            .unwrap()
            .shipment
            .address
            .city,
        "Berlin"
    );
    // The same event again: changes nothing.
    assert!(matches!(
        store
            .record(&shipment("Berlin"), 2_000, "in-2")
            .await
            .unwrap(),
        Recorded::Kept(_)
    ));
    // A newer one before the task exists: replaces the data.
    assert!(matches!(
        store
            .record(&shipment("Hamburg"), 3_000, "in-3")
            .await
            .unwrap(),
        Recorded::Updated
    ));
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.shipment.address.city.as_str(),
            stored.source_inbound.as_str()
        ),
        ("Hamburg", "in-3")
    );
    assert!(
        !stored.edited_after_task,
        "replaced before any task existed"
    );

    let task = sandbox_task();
    assert!(
        store
            .record_task(&key, domain::CourierKind::Sandbox, &task)
            .await
            .unwrap()
            .first,
        "first to store the task"
    );
    assert!(
        !store
            .record_task(&key, domain::CourierKind::Sandbox, &task)
            .await
            .unwrap()
            .first,
        "a repeat is a no-op"
    );
    let other = domain::CourierTask {
        task_id: "tsk_2".into(),
        ..task
    };
    assert!(
        store
            .record_task(&key, domain::CourierKind::Sandbox, &other)
            .await
            .is_err(),
        "a second task id is a conflict"
    );
    // Once the task exists, a newer event that changes the delivery is an edit (the task is
    // to be updated); an older one, or one that changes nothing, is kept out.
    let city = |store: &aws::dynamo::DynamoShipmentStore| {
        let key = key.clone();
        let store = store.clone();
        async move {
            store
                .get(&key)
                .await
                .unwrap()
                .unwrap()
                .shipment
                .address
                .city
        }
    };
    assert!(matches!(
        store
            .record(&shipment("Köln"), 2_500, "in-old")
            .await
            .unwrap(),
        Recorded::Kept(_)
    ));
    assert_eq!(city(store).await, "Hamburg");
    assert!(matches!(
        store
            .record(&shipment("Köln"), 4_000, "in-4")
            .await
            .unwrap(),
        Recorded::Edited
    ));
    assert_eq!(city(store).await, "Köln");
    assert!(matches!(
        store
            .record(&shipment("Köln"), 5_000, "in-5")
            .await
            .unwrap(),
        Recorded::Kept(_)
    ));
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        stored.source_inbound, "in-4",
        "an unchanged order is no edit"
    );
    assert!(
        stored.edited_after_task,
        "the data is an edit made after the task: a retry of in-4 must ask for the update again"
    );
    assert_eq!(stored.task.map(|t| t.task_id).as_deref(), Some("tsk_1"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_give_the_lease_to_exactly_one_and_an_expired_lease_is_taken_over() {
    let h = Harness::start("claims", &[]).await;
    let store = &h.stores().idempotency;
    let lease = Duration::from_secs(60);

    let claims = join_all((0..20).map(|_| store.claim("task:k1", lease))).await;
    let acquired: Vec<_> = claims
        .iter()
        .filter(|c| matches!(c, Ok(Claim::Acquired { .. })))
        .collect();
    assert_eq!(acquired.len(), 1, "{claims:?}");
    assert!(claims.iter().all(|c| c.is_ok()));
    let Ok(Claim::Acquired {
        token,
        resumed: false,
    }) = acquired[0]
    else {
        panic!("fresh claim")
    };
    assert!(matches!(
        store.claim("task:k1", lease).await.unwrap(),
        Claim::Busy { .. }
    ));
    let result = serde_json::json!({"task_id": "tsk_1"});
    assert_eq!(
        store.complete("task:k1", token, &result).await.unwrap(),
        Completion::Stored
    );
    assert_eq!(
        store.claim("task:k1", lease).await.unwrap(),
        Claim::Completed(result)
    );

    // A holder whose lease ran out: the next claim takes over and must look up first.
    let Claim::Acquired { token: stale, .. } =
        store.claim("task:k2", Duration::ZERO).await.unwrap()
    else {
        panic!("fresh claim")
    };
    let Claim::Acquired {
        token: fresh,
        resumed,
    } = store.claim("task:k2", lease).await.unwrap()
    else {
        panic!("takeover of an expired lease")
    };
    assert!(
        resumed,
        "a takeover is told the earlier attempt may have acted"
    );
    assert_eq!(
        store
            .complete("task:k2", &stale, &serde_json::json!(1))
            .await
            .unwrap(),
        Completion::LeaseLost
    );
    assert_eq!(
        store
            .complete("task:k2", &fresh, &serde_json::json!(2))
            .await
            .unwrap(),
        Completion::Stored
    );

    // A released key is claimable at once, as a resumption.
    let Claim::Acquired { token, .. } = store.claim("task:k3", lease).await.unwrap() else {
        panic!()
    };
    store
        .release("task:k3", &token, "courier down")
        .await
        .unwrap();
    assert!(matches!(
        store.claim("task:k3", lease).await.unwrap(),
        Claim::Acquired { resumed: true, .. }
    ));
    h.stop().await;
}

/// create-task's retry stores the task it created before, after status-sync has already
/// moved the shipment on (its webhook raced the first attempt's answer): the repeat is
/// acknowledged, and the shipment keeps its newer status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_task_record_never_moves_the_shipment_back_to_created() {
    let h = Harness::start("task-repeat", &[]).await;
    let store = &h.stores().shipments;
    let key = shipment("Berlin").key;
    store
        .record(&shipment("Berlin"), 1_000, "in-1")
        .await
        .unwrap();
    let task = sandbox_task();
    assert!(
        store
            .record_task(&key, domain::CourierKind::Sandbox, &task)
            .await
            .unwrap()
            .first
    );
    assert!(store
        .apply_courier_status(
            &key,
            "tsk_1",
            &[domain::ShipmentStatus::Created],
            domain::ShipmentStatus::Assigned,
            2_000,
            &domain::record::DeliveryFacts::default(),
        )
        .await
        .unwrap());

    let repeat = store
        .record_task(&key, domain::CourierKind::Sandbox, &task)
        .await
        .unwrap();

    assert!(!repeat.first, "the repeat is not the first");
    let record = store.get(&key).await.unwrap().unwrap();
    assert_eq!(record.status, domain::ShipmentStatus::Assigned);
    h.stop().await;
}

/// Storing a task answers with the shipment as recorded at that moment (an edit recorded
/// while the task was being made included) and with a cancellation requested meanwhile:
/// create-task decides on it without reading the shipment again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storing_a_task_answers_with_the_shipment_as_it_was_then() {
    let h = Harness::start("task-answer", &[]).await;
    let store = &h.stores().shipments;
    let key = shipment("Berlin").key;
    store
        .record(&shipment("Berlin"), 1_000, "in-1")
        .await
        .unwrap();
    // A newer event while the courier was making the task from the Berlin data.
    assert!(matches!(
        store
            .record(&shipment("Potsdam"), 2_000, "in-2")
            .await
            .unwrap(),
        Recorded::Updated
    ));
    let task = sandbox_task();

    let stored = store
        .record_task(&key, domain::CourierKind::Sandbox, &task)
        .await
        .unwrap();

    assert!(stored.first);
    assert!(!stored.cancel_requested);
    assert_eq!(stored.shipment.address.city, "Potsdam");
    assert!(stored.shipment.courier_facing_change(&shipment("Berlin")));

    // A repeat after the order was cancelled: the stored shipment and the cancellation.
    store.request_cancel(&key).await.unwrap();
    let repeat = store
        .record_task(&key, domain::CourierKind::Sandbox, &task)
        .await
        .unwrap();
    assert!(!repeat.first);
    assert!(repeat.cancel_requested);
    assert_eq!(repeat.shipment.address.city, "Potsdam");
    h.stop().await;
}

/// An edit of a shipment with a task, admitted again from the same payload (its first attempt
/// died before the update request went out), asks for the update again; the order's first
/// payload, admitted again, asks nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_edit_asks_for_the_update_again_and_the_first_payload_asks_nothing() {
    use domain::pipeline::Admitted;
    let h = Harness::start("edit-retry", &[]).await;
    let stores = h.stores();
    let key = shipment("Berlin").key;
    stores
        .shipments
        .record(&shipment("Berlin"), 1_000, "in-1")
        .await
        .unwrap();
    stores
        .shipments
        .record_task(&key, domain::CourierKind::Sandbox, &sandbox_task())
        .await
        .unwrap();
    let intake = stores.intake();

    let edit = shipment("Potsdam");
    assert_eq!(
        intake.admit(&edit, 2_000, "in-2").await.unwrap(),
        Admitted::UpdateRequested
    );
    assert_eq!(
        intake.admit(&edit, 2_000, "in-2").await.unwrap(),
        Admitted::UpdateRequestedAgain,
        "the record says this payload's edit is its data"
    );
    assert_eq!(
        intake
            .admit(&shipment("Berlin"), 2_000, "in-1")
            .await
            .unwrap(),
        Admitted::AlreadyHasTask,
        "another payload, the task exists: nothing to ask"
    );
    h.stop().await;
}

/// A plan of the given id with one route for `driver`.
fn plan_for(id: &str, driver: &str) -> domain::dispatch::DispatchPlan {
    let at = domain::dispatch::GeoPoint {
        lat: 52.52,
        lon: 13.40,
    };
    domain::dispatch::DispatchPlan {
        id: id.into(),
        day: "2026-12-07".into(),
        time_zone: "Europe/Berlin".into(),
        created_at: "2026-12-06T16:57:59.609Z".into(),
        requested_by: driver.into(),
        routes: vec![domain::dispatch::DriverRoute {
            driver: driver.into(),
            vehicle: domain::dispatch::VehicleType::Bicycle,
            start: at,
            end: None,
            departs_ms: 0,
            done_ms: 0,
            distance_m: 0,
            stops: Vec::new(),
            pickups: Vec::new(),
        }],
        unplanned: Vec::new(),
        distance_m: 0,
        duration_s: 0,
        budget_s: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_id_two_runs_share_is_refused_and_never_mixes_their_routes() {
    let h = Harness::start("plan-ids", &[]).await;
    let plans = h.stores().dispatch.as_ref().expect("dispatch table");
    let id = "2026-12-06T16:57:59.609Z#local-1";
    let first = plan_for(id, "drv_01");
    assert_eq!(
        plans.start(&first, None).await.unwrap(),
        domain::dispatch::PlanStart::Started
    );
    // Another run's plan under the same id: refused before any of its items is written.
    let error = plans
        .start(&plan_for(id, "drv_02"), None)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("another plan already has this id"),
        "{error}"
    );
    let stored = plans.day("2026-12-07").await.unwrap().open.expect("open");
    assert_eq!(stored, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_pages_through_its_index_newest_first_and_filters_by_reason() {
    use domain::ports::ReviewQuery;
    use domain::{ReviewItem, ReviewReason};
    let h = Harness::start("inbox-pages", &[]).await;
    let inbox = &h.stores().reviews;
    // 23 open items a second apart, every third about the address; two more closed.
    for i in 0..25u32 {
        let reason = if i % 3 == 0 {
            ReviewReason::AddressNotFound {
                message: "no such street".into(),
            }
        } else {
            ReviewReason::MissingPhone
        };
        let mut item = ReviewItem::new(&format!("shopify:acme:{i}:1"), "shipment", vec![reason]);
        item.created_at = format!("2026-12-06T10:00:{i:02}Z");
        inbox.open(&item).await.unwrap();
    }
    for i in [23u32, 24] {
        let id = format!("review:shopify:acme:{i}:1");
        assert!(inbox.close(&id, "dismissed", "test").await.unwrap());
    }

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = inbox
            .page(&ReviewQuery {
                status: "open".into(),
                code: None,
                limit: 10,
                after: after.clone(),
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|i| i.created_at.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..23u32)
        .rev()
        .map(|i| format!("2026-12-06T10:00:{i:02}Z"))
        .collect();
    assert_eq!(seen, expected, "every open item once, newest first");

    let address = inbox
        .page(&ReviewQuery {
            status: "open".into(),
            code: Some("address_not_found".into()),
            limit: 50,
            after: None,
        })
        .await
        .unwrap();
    let ids: Vec<&str> = address.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [21, 18, 15, 12, 9, 6, 3, 0]
            .map(|i| format!("review:shopify:acme:{i}:1"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert!(address.next.is_none());
    let dismissed = inbox
        .page(&ReviewQuery {
            status: "dismissed".into(),
            code: None,
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(dismissed.items.len(), 2);
    // A cursor that is not ours lists from the start.
    let garbage = inbox
        .page(&ReviewQuery {
            status: "dismissed".into(),
            code: None,
            limit: 10,
            after: Some("not-a-cursor".into()),
        })
        .await
        .unwrap();
    assert_eq!(garbage.items.len(), 2);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipment_search_pages_a_day_from_its_index_and_finds_tracking_and_order_numbers() {
    use domain::courier::CourierKind;
    use domain::ports::{ShipmentFind, ShipmentQuery};
    use domain::{Channel, ShipmentStatus};
    let h = Harness::start("shipment-search", &[]).await;
    let shipments = &h.stores().shipments;
    // 2026-12-06 00:00 UTC; 23 orders of that day a minute apart, in two stores, and two
    // of the day before.
    let day_start: i64 = 1_796_515_200_000;
    for i in 0..25i64 {
        let store = if i % 2 == 0 { "acme" } else { "bolt" };
        let mut shipment = shipment("Berlin");
        shipment.key =
            domain::ShipmentKey::new(Channel::Shopify, store, &format!("{}", 5000 + i), "1");
        let at = if i < 23 {
            day_start + i * 60_000
        } else {
            day_start - (i - 22) * 60_000
        };
        shipments.record(&shipment, at, "in").await.unwrap();
        if i % 5 == 0 {
            let task = domain::CourierTask {
                task_id: format!("tsk_{i}"),
                tracking_number: format!("SBX{i:04}"),
                tracking_url: None,
            };
            shipments
                .record_task(&shipment.key, CourierKind::Sandbox, &task)
                .await
                .unwrap();
        }
    }
    let search = |find: ShipmentFind, after: Option<String>| ShipmentQuery {
        find,
        limit: 10,
        after,
    };
    let day = |store: Option<&str>, status| ShipmentFind::Day {
        day: "2026-12-06".into(),
        store: store.map(|s| (Channel::Shopify, s.to_owned())),
        status,
    };
    // The whole day, page by page, newest first, each once.
    let seen = every_page(shipments, day(None, None)).await;
    let expected: Vec<String> = (0..23).rev().map(|i| format!("{}", 5000 + i)).collect();
    assert_eq!(
        seen, expected,
        "every shipment of the day once, newest first"
    );

    // One store's, with a page cut short by the filter and carried on by its cursor.
    let acme = every_page(shipments, day(Some("acme"), None)).await;
    let expected: Vec<String> = (0..23)
        .rev()
        .filter(|i| i % 2 == 0)
        .map(|i| format!("{}", 5000 + i))
        .collect();
    assert_eq!(acme, expected);

    // A status: the ones with a task are Created.
    let created = shipments
        .search(&search(day(None, Some(ShipmentStatus::Created)), None))
        .await
        .unwrap();
    let ids: Vec<&str> = created
        .shipments
        .iter()
        .map(|r| r.shipment.key.order_id.as_str())
        .collect();
    assert_eq!(ids, ["5020", "5015", "5010", "5005", "5000"]);

    // A tracking number, and an order of a store.
    let tracked = shipments
        .search(&search(ShipmentFind::Tracking("SBX0015".into()), None))
        .await
        .unwrap();
    assert_eq!(tracked.shipments.len(), 1);
    assert_eq!(tracked.shipments[0].shipment.key.order_id, "5015");
    assert!(shipments
        .search(&search(ShipmentFind::Tracking("SBX9999".into()), None))
        .await
        .unwrap()
        .shipments
        .is_empty());
    let order = shipments
        .search(&search(
            ShipmentFind::Order {
                channel: Channel::Shopify,
                store: "bolt".into(),
                order_id: "5023".into(),
            },
            None,
        ))
        .await
        .unwrap();
    assert_eq!(
        order.shipments.len(),
        1,
        "the day before's order is found by its number"
    );
    assert!(shipments
        .search(&search(
            ShipmentFind::Order {
                channel: Channel::Shopify,
                store: "acme".into(),
                order_id: "5023".into(),
            },
            None,
        ))
        .await
        .unwrap()
        .shipments
        .is_empty());

    // A cursor that is not ours, or one of another search, lists from the start.
    for cursor in [
        "not-a-cursor".to_owned(),
        tracked.next.unwrap_or_else(|| "e30".into()),
    ] {
        let page = shipments
            .search(&search(day(None, None), Some(cursor)))
            .await
            .unwrap();
        assert_eq!(page.shipments[0].shipment.key.order_id, "5022");
    }
    h.stop().await;
}

/// The order ids `find` lists, every page of ten followed to the last.
async fn every_page(
    shipments: &aws::dynamo::DynamoShipmentStore,
    find: domain::ports::ShipmentFind,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = shipments
            .search(&domain::ports::ShipmentQuery {
                find: find.clone(),
                limit: 10,
                after,
            })
            .await
            .unwrap();
        assert!(page.shipments.len() <= 10);
        seen.extend(
            page.shipments
                .iter()
                .map(|r| r.shipment.key.order_id.clone()),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
}

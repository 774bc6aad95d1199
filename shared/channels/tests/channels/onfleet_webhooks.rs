//! Onfleet webhooks against Onfleet's published example payload and a published signature
//! triple (tests/fixtures/onfleet, sources in tests/fixtures/SOURCES.md), plus constructed
//! payloads for every trigger and every malformed shape we could think of.

use channels::onfleet::{
    self as onfleet, handshake_answer, parse, verify_signature, CourierEvent, EventKind, Failure,
    LocationSource, PodLocation, ProofOfDelivery, Trigger, WebhookError, SIGNATURE_HEADER,
};
use domain::{Actor, ShipmentStatus};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/onfleet");
const EXAMPLE: &str = "taskUpdated_completed_example.json";
const TASK: &str = "FNO~F5wyG4a0pX0pYeW8novw";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn example() -> Value {
    serde_json::from_slice(&fixture(EXAMPLE)).unwrap()
}

fn parse_value(value: &Value) -> Result<CourierEvent, WebhookError> {
    parse(&serde_json::to_vec(value).unwrap())
}

/// A minimal task payload for `trigger_id`.
fn payload(trigger_id: u64, task: Value) -> Value {
    json!({
        "triggerId": trigger_id,
        "triggerName": Trigger::from_id(trigger_id).map(Trigger::name),
        "taskId": "task-1",
        "time": 1_700_000_000_000_u64,
        "workerId": "worker-1",
        "adminId": null,
        "data": { "task": task },
    })
}

fn task(state: u8, success: Option<bool>) -> Value {
    json!({
        "id": "task-1",
        "state": state,
        "pickupTask": false,
        "metadata": [
            { "name": "other", "type": "string", "value": "x" },
            { "name": "courier_bridge_reference", "type": "string", "value": "ref-1" },
        ],
        "completionDetails": {
            "success": success,
            "failureReason": if success == Some(false) { "NOBODY" } else { "NONE" },
            "failureNotes": if success == Some(false) { "rang twice" } else { "" },
            "notes": "",
            "time": 1_700_000_000_500_u64,
        },
    })
}

// ---------------------------------------------------------------------------------------
// Signature
// ---------------------------------------------------------------------------------------

#[test]
fn the_published_signature_example_verifies_and_a_changed_byte_or_secret_does_not() {
    let triple: Value = serde_json::from_slice(&fixture("signature.hmac.json")).unwrap();
    let body = fixture(triple["body_file"].as_str().unwrap());
    let secret = triple["secret"].as_str().unwrap();
    let hmac = triple["hmac"].as_str().unwrap();
    assert_eq!(body, b"some-body");
    assert_eq!(
        SIGNATURE_HEADER,
        triple["header"].as_str().unwrap().to_lowercase()
    );

    assert!(verify_signature(secret, &body, hmac));
    assert_eq!(onfleet::sign(secret, &body).as_deref(), Some(hmac));

    for i in 0..body.len() {
        let mut tampered = body.clone();
        tampered[i] ^= 0x01;
        assert!(!verify_signature(secret, &tampered, hmac), "byte {i}");
    }
    let mut longer = body.clone();
    longer.push(b'\n');
    assert!(
        !verify_signature(secret, &longer, hmac),
        "a trailing newline is signed too"
    );

    // The secret is the key only once hex-decoded: its ASCII text is another key.
    assert!(!verify_signature("some-secret", &body, hmac));
    assert!(!verify_signature(&hex_of(b"some-secret-2"), &body, hmac));
    assert!(!verify_signature("", &body, hmac));
    let mut flipped = hmac.to_owned();
    flipped.replace_range(0..1, if hmac.starts_with('5') { "6" } else { "5" });
    assert!(!verify_signature(secret, &body, &flipped));
    assert!(!verify_signature(secret, &body, &hmac[..hmac.len() - 2]));
    assert!(!verify_signature(secret, &body, "sha512=not-hex"));
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------

#[test]
fn the_handshake_echoes_the_check_value_untouched() {
    assert_eq!(
        handshake_answer(Some("example")).as_deref(),
        Some("example")
    );
    for value in ["a+b c%20", " padded ", "ÄÖ✓", "<script>", ""] {
        assert_eq!(handshake_answer(Some(value)).as_deref(), Some(value));
    }
    assert_eq!(
        handshake_answer(None),
        None,
        "no check parameter: not a handshake"
    );
}

// ---------------------------------------------------------------------------------------
// Onfleet's published example
// ---------------------------------------------------------------------------------------

#[test]
fn the_published_task_updated_example_is_a_delivery_with_its_proof() {
    let event = parse(&fixture(EXAMPLE)).unwrap();
    assert_eq!(
        event,
        CourierEvent {
            courier: domain::CourierKind::Onfleet,
            courier_event: "taskUpdated".into(),
            kind: EventKind::Updated,
            task_id: TASK.into(),
            reference: None,
            time_ms: Some(1_656_447_286_599),
            status: Some(ShipmentStatus::Delivered),
            failure: None,
            proof: Some(ProofOfDelivery {
                signature_upload_id: Some("7cac66f57968cc3a14610040".into()),
                photo_upload_ids: vec!["28e339b969068d2c21f1542a".into()],
                signature_text: Some("shuai".into()),
                recipient_name: None,
                notes: Some("hskdjdj".into()),
                // lastLocation is [] and the only event ("start") has no position.
                location: Some(PodLocation {
                    lng: -117.8764687,
                    lat: 33.8078476,
                    source: LocationSource::Destination,
                }),
                completed_at_ms: Some(1_656_447_275_344),
            }),
            eta_ms: None,
            tracking_url: Some("https://onf.lt/3b2556c2".into()),
            worker_id: Some("ZxcnkJi~79nonYaMTQ960Mg2".into()),
            cod_collected: None,
            delivery_cost: None,
        }
    );
    assert_eq!(event.actor(), Actor::Courier);
    let stored: CourierEvent =
        serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
    assert_eq!(stored, event, "the event survives a queue");
    assert!(ShipmentStatus::OutForDelivery.may_become(ShipmentStatus::Delivered, event.actor()));
    assert!(
        !ShipmentStatus::Delivered.may_become(ShipmentStatus::Delivered, event.actor()),
        "the same update again changes nothing"
    );
}

#[test]
fn the_example_as_other_triggers_and_states() {
    let mut completed = example();
    completed["triggerId"] = json!(3);
    completed["triggerName"] = json!("taskCompleted");
    let event = parse_value(&completed).unwrap();
    assert_eq!(
        (event.kind, event.status),
        (EventKind::Completed, Some(ShipmentStatus::Delivered))
    );
    assert_eq!(
        event.proof.unwrap().signature_upload_id.as_deref(),
        Some("7cac66f57968cc3a14610040")
    );

    let mut failed = example();
    let details = &mut failed["data"]["task"]["completionDetails"];
    details["success"] = json!(false);
    details["failureReason"] = json!("CLIENT_NOT_AVAILABLE");
    details["failureNotes"] = json!("nobody home");
    let event = parse_value(&failed).unwrap();
    assert_eq!(event.status, Some(ShipmentStatus::Failed));
    assert_eq!(
        event.failure,
        Some(Failure {
            reason: Some("CLIENT_NOT_AVAILABLE".into()),
            notes: Some("nobody home".into()),
        })
    );
    assert_eq!(
        event.proof, None,
        "no proof of a delivery that did not happen"
    );

    let mut pickup = example();
    pickup["data"]["task"]["pickupTask"] = json!(true);
    let event = parse_value(&pickup).unwrap();
    assert_eq!(event.status, Some(ShipmentStatus::PickedUp));
    assert_eq!(event.proof, None);

    let mut ours = example();
    ours["data"]["task"]["metadata"] = json!([
        { "name": "courier_bridge_reference", "type": "string", "value": "cb-1-abc", "visibility": ["api"] }
    ]);
    assert_eq!(
        parse_value(&ours).unwrap().reference.as_deref(),
        Some("cb-1-abc")
    );

    let mut not_a_string = example();
    not_a_string["data"]["task"]["metadata"] =
        json!([{ "name": "courier_bridge_reference", "type": "number", "value": 7 }]);
    assert_eq!(parse_value(&not_a_string).unwrap().reference, None);
}

#[test]
fn the_proof_location_prefers_the_driver_then_the_latest_event_then_the_destination() {
    let mut driver = example();
    let details = &mut driver["data"]["task"]["completionDetails"];
    details["lastLocation"] = json!([-117.87, 33.80]);
    details["events"] = json!([
        { "name": "arrival", "time": 2, "location": [-117.0, 33.0] },
    ]);
    assert_eq!(
        proof(&driver).location,
        Some(PodLocation {
            lng: -117.87,
            lat: 33.80,
            source: LocationSource::DriverAtCompletion
        })
    );

    let mut events = example();
    events["data"]["task"]["completionDetails"]["events"] = json!([
        { "name": "start", "time": 1 },
        { "name": "arrival", "time": 3, "location": [-122.401521416785, 37.7762999215933] },
        { "name": "departure", "time": 2, "location": [-122.401357311869, 37.776509919239] },
        { "name": "odd", "time": 4, "location": [1.0] },
    ]);
    assert_eq!(
        proof(&events).location,
        Some(PodLocation {
            lng: -122.401521416785,
            lat: 37.7762999215933,
            source: LocationSource::CompletionEvent
        })
    );

    let mut nowhere = example();
    nowhere["data"]["task"]["destination"]["location"] = json!([]);
    assert_eq!(proof(&nowhere).location, None);
}

#[test]
fn photos_come_from_both_fields_once_and_recipients_name_the_addressee() {
    let mut value = example();
    let task = &mut value["data"]["task"];
    task["completionDetails"]["photoUploadIds"] = json!(["p1", "p2", "p1", ""]);
    task["completionDetails"]["photoUploadId"] = json!("p3");
    task["recipients"] = json!([{ "name": "Ada Lovelace", "phone": "+15555550100" }]);
    let proof = proof(&value);
    assert_eq!(proof.photo_upload_ids, ["p1", "p2", "p3"]);
    assert_eq!(proof.recipient_name.as_deref(), Some("Ada Lovelace"));

    let mut legacy = example();
    let details = &mut legacy["data"]["task"]["completionDetails"];
    details["photoUploadIds"] = Value::Null;
    details["signatureUploadId"] = Value::Null;
    details["signatureText"] = json!("");
    details["notes"] = json!("");
    details["successNotes"] = json!("left with the concierge");
    let proof = self::proof(&legacy);
    assert_eq!(proof.photo_upload_ids, ["28e339b969068d2c21f1542a"]);
    assert_eq!(proof.signature_upload_id, None);
    assert_eq!(proof.signature_text, None);
    assert_eq!(proof.notes.as_deref(), Some("left with the concierge"));
}

fn proof(value: &Value) -> ProofOfDelivery {
    parse_value(value).unwrap().proof.unwrap()
}

// ---------------------------------------------------------------------------------------
// Every trigger
// ---------------------------------------------------------------------------------------

/// One row of the trigger table: a payload of trigger `id` whose task is in `state` with
/// `success`, and what it must become.
struct Case {
    id: u64,
    name: &'static str,
    state: u8,
    success: Option<bool>,
    kind: EventKind,
    status: Option<ShipmentStatus>,
}

fn case(
    id: u64,
    name: &'static str,
    (state, success): (u8, Option<bool>),
    kind: EventKind,
    status: Option<ShipmentStatus>,
) -> Case {
    Case {
        id,
        name,
        state,
        success,
        kind,
        status,
    }
}

#[test]
fn every_trigger_id_maps_as_documented() {
    use ShipmentStatus::*;
    let eta = EventKind::Eta {
        seconds: Some(300.0),
    };
    let arrival = EventKind::Arrival {
        distance_m: Some(150.5),
    };
    let delayed = EventKind::Delayed {
        seconds: Some(600.0),
    };
    #[rustfmt::skip]
    let table = [
        case(0, "taskStarted", (2, None), EventKind::Started, Some(OutForDelivery)),
        case(1, "taskEta", (2, None), eta, None),
        case(2, "taskArrival", (2, None), arrival, None),
        case(3, "taskCompleted", (3, Some(true)), EventKind::Completed, Some(Delivered)),
        case(3, "taskCompleted", (3, Some(false)), EventKind::Completed, Some(Failed)),
        case(4, "taskFailed", (3, Some(false)), EventKind::Failed, Some(Failed)),
        case(6, "taskCreated", (0, None), EventKind::Created, None),
        case(7, "taskUpdated", (3, Some(true)), EventKind::Updated, Some(Delivered)),
        case(8, "taskDeleted", (1, None), EventKind::Deleted, Some(Cancelled)),
        case(9, "taskAssigned", (1, None), EventKind::Assigned, Some(Assigned)),
        case(10, "taskUnassigned", (0, None), EventKind::Unassigned, None),
        case(12, "taskDelayed", (2, None), delayed, None),
        case(13, "taskCloned", (0, None), EventKind::Cloned, None),
    ];
    for Case {
        id,
        name,
        state,
        success,
        kind,
        status,
    } in table
    {
        let trigger = Trigger::from_id(id).unwrap();
        assert_eq!(trigger.name(), name);
        let mut value = payload(id, task(state, success));
        value["etaSeconds"] = json!(300);
        value["distance"] = json!(150.5);
        value["delay"] = json!(600);
        let event = parse_value(&value).unwrap();
        let label = format!("{id} {name} success={success:?}");
        assert_eq!(event.courier_event, name, "{label}");
        assert_eq!(event.kind, kind, "{label}");
        assert_eq!(event.status, status, "{label}");
        assert_eq!(event.task_id, "task-1", "{label}");
        assert_eq!(event.reference.as_deref(), Some("ref-1"), "{label}");
        assert_eq!(event.time_ms, Some(1_700_000_000_000), "{label}");
        assert_eq!(event.worker_id.as_deref(), Some("worker-1"), "{label}");
        assert_eq!(event.proof.is_some(), status == Some(Delivered), "{label}");
        assert_eq!(event.failure.is_some(), status == Some(Failed), "{label}");
        let actor = if status == Some(Cancelled) {
            Actor::Dispatcher
        } else {
            Actor::Courier
        };
        assert_eq!(event.actor(), actor, "{label}");
        if let Some(to) = status {
            assert!(
                Created.may_become(to, event.actor()),
                "{label}: the machine accepts it"
            );
        }
    }

    for id in [5, 14, 15, 16, 17] {
        let trigger = Trigger::from_id(id).unwrap();
        let err = parse_value(&payload(id, json!({ "id": "task-1" }))).unwrap_err();
        assert_eq!(err, WebhookError::NotATaskTrigger(trigger), "{id}");
        assert!(err.is_ignorable());
    }
    for id in [11, 18, 30, 1000] {
        let err = parse_value(&payload(id, task(0, None))).unwrap_err();
        assert!(
            matches!(err, WebhookError::UnknownTrigger { id: Some(i), .. } if i == id),
            "{id}: {err:?}"
        );
        assert!(err.is_ignorable());
    }
}

#[test]
fn a_worker_duty_payload_is_not_a_task_event_whatever_its_data() {
    let duty = json!({
        "triggerId": 5, "triggerName": "workerDuty", "workerId": "w", "status": 1,
        "data": { "worker": { "id": "w", "onDuty": true } }, "taskId": null, "time": 1,
    });
    assert_eq!(
        parse_value(&duty).unwrap_err(),
        WebhookError::NotATaskTrigger(Trigger::WorkerDuty)
    );
}

#[test]
fn task_updated_follows_the_task_state() {
    use ShipmentStatus::*;
    let cases = [
        (0, None, None),
        (1, None, Some(Assigned)),
        (2, None, Some(OutForDelivery)),
        (3, Some(true), Some(Delivered)),
        (3, Some(false), Some(Failed)),
        (3, None, None),
        (9, Some(true), None),
    ];
    for (state, success, status) in cases {
        let event = parse_value(&payload(7, task(state, success))).unwrap();
        assert_eq!(event.status, status, "state {state} success {success:?}");
    }
}

#[test]
fn a_pickup_task_is_picked_up_when_completed_and_nothing_when_started() {
    let pickup = |id, state, success| {
        let mut task = task(state, success);
        task["pickupTask"] = json!(true);
        parse_value(&payload(id, task)).unwrap()
    };
    assert_eq!(pickup(0, 2, None).status, None);
    assert_eq!(pickup(7, 2, None).status, None);
    assert_eq!(
        pickup(3, 3, Some(true)).status,
        Some(ShipmentStatus::PickedUp)
    );
    assert_eq!(pickup(3, 3, Some(true)).proof, None);
    assert_eq!(
        pickup(4, 3, Some(false)).status,
        Some(ShipmentStatus::Failed)
    );
    assert_eq!(pickup(9, 1, None).status, Some(ShipmentStatus::Assigned));
}

#[test]
fn failures_carry_the_reason_unless_it_says_none() {
    let event = parse_value(&payload(4, task(3, Some(false)))).unwrap();
    assert_eq!(
        event.failure,
        Some(Failure {
            reason: Some("NOBODY".into()),
            notes: Some("rang twice".into())
        })
    );
    let bare = parse_value(&payload(4, json!({ "id": "task-1" }))).unwrap();
    assert_eq!(bare.status, Some(ShipmentStatus::Failed));
    assert_eq!(
        bare.failure,
        Some(Failure {
            reason: None,
            notes: None
        })
    );
    let mut none = task(3, Some(false));
    none["completionDetails"]["failureReason"] = json!("NONE");
    let event = parse_value(&payload(4, none)).unwrap();
    assert_eq!(event.failure.unwrap().reason, None);
}

#[test]
fn the_eta_is_onfleets_estimate_or_the_event_time_plus_eta_seconds() {
    let mut value = payload(1, task(2, None));
    value["etaSeconds"] = json!(300);
    assert_eq!(parse_value(&value).unwrap().eta_ms, Some(1_700_000_300_000));

    value["data"]["task"]["estimatedCompletionTime"] = json!(1_700_000_400_000_u64);
    assert_eq!(parse_value(&value).unwrap().eta_ms, Some(1_700_000_400_000));
    value["data"]["task"]["estimatedArrivalTime"] = json!(1_700_000_350_000_u64);
    assert_eq!(parse_value(&value).unwrap().eta_ms, Some(1_700_000_350_000));

    let started = parse_value(&payload(0, task(2, None))).unwrap();
    assert_eq!(started.eta_ms, None);
}

#[test]
fn a_deletion_cancels_only_what_is_not_finished() {
    let event = parse_value(&payload(8, task(2, None))).unwrap();
    assert_eq!(event.status, Some(ShipmentStatus::Cancelled));
    assert_eq!(event.actor(), Actor::Dispatcher);
    assert!(ShipmentStatus::OutForDelivery.may_become(ShipmentStatus::Cancelled, event.actor()));
    assert!(!ShipmentStatus::Delivered.may_become(ShipmentStatus::Cancelled, event.actor()));
}

#[test]
fn an_unassignment_never_moves_the_shipment_back() {
    let event = parse_value(&payload(10, task(0, None))).unwrap();
    assert_eq!(event.kind, EventKind::Unassigned);
    assert_eq!(event.status, None);
}

#[test]
fn the_trigger_id_decides_and_the_name_is_only_a_fallback() {
    let mut value = payload(3, task(3, Some(true)));
    value["triggerName"] = json!("taskFailed");
    let event = parse_value(&value).unwrap();
    assert_eq!(event.courier_event, "taskCompleted");
    assert_eq!(event.status, Some(ShipmentStatus::Delivered));

    let mut float_id = payload(9, task(1, None));
    float_id["triggerId"] = json!(9.0);
    assert_eq!(parse_value(&float_id).unwrap().kind, EventKind::Assigned);

    let mut by_name = payload(9, task(1, None));
    by_name.as_object_mut().unwrap().remove("triggerId");
    assert_eq!(parse_value(&by_name).unwrap().kind, EventKind::Assigned);
    by_name["triggerId"] = Value::Null;
    assert_eq!(parse_value(&by_name).unwrap().kind, EventKind::Assigned);

    by_name["triggerName"] = json!("TaskAssigned");
    assert_eq!(
        parse_value(&by_name).unwrap_err(),
        WebhookError::UnknownTrigger {
            id: None,
            name: Some("TaskAssigned".into())
        }
    );
    by_name.as_object_mut().unwrap().remove("triggerName");
    assert_eq!(parse_value(&by_name).unwrap_err(), WebhookError::NoTrigger);
}

// ---------------------------------------------------------------------------------------
// Garbage
// ---------------------------------------------------------------------------------------

#[test]
fn garbage_bodies_are_typed_errors() {
    let not_json: [&[u8]; 6] = [
        b"",
        b"not json",
        b"{\"triggerId\": 3,",
        b"\xff\xfe{}",
        b"{\"taskId\": \"\xff\"}",
        b"{} {}",
    ];
    for body in not_json {
        assert!(
            matches!(parse(body), Err(WebhookError::NotJson(_))),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        parse(deep.as_bytes()),
        Err(WebhookError::NotJson(_))
    ));

    for body in ["[]", "null", "3", "\"taskCompleted\""] {
        assert!(
            matches!(parse(body.as_bytes()), Err(WebhookError::Malformed(_))),
            "{body}"
        );
    }
    assert_eq!(parse(b"{}").unwrap_err(), WebhookError::NoTrigger);

    for id in [
        json!("3"),
        json!(-1),
        json!(3.5),
        json!(true),
        json!([3]),
        json!(1e300),
    ] {
        let mut value = payload(3, task(3, Some(true)));
        value["triggerId"] = id.clone();
        assert!(
            matches!(parse_value(&value), Err(WebhookError::Malformed(_))),
            "triggerId {id}"
        );
    }

    let mut no_task = payload(3, Value::Null);
    no_task["taskId"] = Value::Null;
    assert_eq!(
        parse_value(&no_task).unwrap_err(),
        WebhookError::MissingTaskId {
            trigger: "taskCompleted"
        }
    );
    no_task["taskId"] = json!("   ");
    assert!(matches!(
        parse_value(&no_task),
        Err(WebhookError::MissingTaskId { .. })
    ));

    let only_data = {
        let mut v = payload(3, task(3, Some(true)));
        v.as_object_mut().unwrap().remove("taskId");
        v
    };
    assert_eq!(parse_value(&only_data).unwrap().task_id, "task-1");

    let mut mismatch = payload(3, task(3, Some(true)));
    mismatch["taskId"] = json!("task-2");
    assert_eq!(
        parse_value(&mismatch).unwrap_err(),
        WebhookError::TaskIdMismatch {
            task_id: "task-2".into(),
            data_task_id: "task-1".into()
        }
    );

    for (path, wrong) in [
        ("/data", json!("task")),
        ("/data/task", json!([])),
        ("/data/task/completionDetails/success", json!("yes")),
        ("/data/task/metadata", json!({})),
        ("/time", json!("yesterday")),
    ] {
        let mut value = payload(3, task(3, Some(true)));
        *value.pointer_mut(path).unwrap() = wrong;
        let err = parse_value(&value).unwrap_err();
        assert!(matches!(err, WebhookError::Malformed(_)), "{path}: {err:?}");
        assert!(!err.is_ignorable(), "{path}");
    }
}

/// Every value of the published example replaced by every JSON type, and removed: `parse`
/// answers without panicking, and what it accepts keeps its promises.
#[test]
fn the_example_with_any_field_replaced_or_removed_never_panics() {
    let original = example();
    let mut paths = Vec::new();
    collect_paths(&original, String::new(), &mut paths);
    let replacements = [
        Value::Null,
        json!(true),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(u64::MAX),
        json!(""),
        json!("NONE"),
        json!([]),
        json!([1.0, 2.0]),
        json!({}),
    ];
    let mut checked = 0;
    for path in &paths {
        for replacement in replacements.iter().cloned().map(Some).chain([None]) {
            let mut value = original.clone();
            match replacement {
                Some(r) => *value.pointer_mut(path).unwrap() = r,
                None => remove(&mut value, path),
            }
            if let Ok(event) = parse_value(&value) {
                assert!(!event.task_id.trim().is_empty(), "{path}");
                assert_eq!(
                    event.proof.is_some(),
                    event.status == Some(ShipmentStatus::Delivered),
                    "{path}"
                );
                assert_eq!(
                    event.failure.is_some(),
                    event.status == Some(ShipmentStatus::Failed),
                    "{path}"
                );
                if let Some(location) = event.proof.and_then(|p| p.location) {
                    assert!(location.lng.abs() <= 180.0 && location.lat.abs() <= 90.0);
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked}");
}

fn collect_paths(value: &Value, path: String, out: &mut Vec<String>) {
    if !path.is_empty() {
        out.push(path.clone());
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_paths(v, format!("{path}/{}", k.replace('~', "~0")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_paths(v, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn remove(value: &mut Value, path: &str) {
    let (parent, last) = path.rsplit_once('/').unwrap();
    let key = last.replace("~0", "~");
    match value.pointer_mut(parent).unwrap() {
        Value::Object(map) => {
            map.remove(&key);
        }
        Value::Array(items) => {
            items.remove(key.parse::<usize>().unwrap());
        }
        _ => unreachable!(),
    }
}

mod arbitrary_input {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&body);
            let _ = verify_signature("736f6d652d736563726574", &body, "00");
        }

        #[test]
        fn any_trigger_and_state_never_panics(
            id in 0u64..40,
            state in -1i64..6,
            success in proptest::option::of(any::<bool>()),
            pickup in any::<bool>(),
        ) {
            let mut task = task(0, success);
            task["state"] = json!(state);
            task["pickupTask"] = json!(pickup);
            if let Ok(event) = parse_value(&payload(id, task)) {
                prop_assert!(Trigger::from_id(id).is_some_and(Trigger::is_task_trigger));
                prop_assert_eq!(event.proof.is_some(), event.status == Some(ShipmentStatus::Delivered));
            }
        }
    }
}

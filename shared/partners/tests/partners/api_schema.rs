//! The published contract of the generic API (docs/api) and the parser agree: every example
//! validates against the JSON Schema and parses into the shipments it describes; bodies the
//! schema refuses are refused or sent to review by courier-bridge too; the OpenAPI file
//! points at the schema and names the same headers, topics and version as the code.

use channels::api::{self, Topic};
use domain::order::{OrderEvent, Trigger};
use domain::write_back::Tracking;
use domain::{Channel, Payment, ReviewReason, ShipmentKey, StoreConfig, TriggerPolicy};
use partners::stores::api::{TrackingEvent, TRACKING_TOPIC};
use serde_json::{json, Value};

const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api");
const STORE: &str = "demo-store";

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{DOCS}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn schema() -> Value {
    serde_json::from_slice(&read("order-event.v1.schema.json")).unwrap()
}

fn openapi() -> Value {
    serde_yaml::from_slice(&read("openapi.yaml")).unwrap()
}

/// Formats are assertions here (they are annotations by default in 2020-12): the parser
/// refuses a `updated_at` that is not RFC 3339, so the schema must too.
fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

fn schema_errors(v: &jsonschema::Validator, body: &Value) -> Vec<String> {
    v.iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// (topic, file name, body bytes) of every example; the topic is the name's first two parts.
fn examples() -> Vec<(String, String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(format!("{DOCS}/examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    names
        .into_iter()
        .map(|name| {
            let topic = name.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
            let body = read(&format!("examples/{name}"));
            (topic, name, body)
        })
        .collect()
}

fn example(name: &str) -> (String, Value) {
    let (topic, _, body) = examples()
        .into_iter()
        .find(|(_, n, _)| n == name)
        .unwrap_or_else(|| panic!("no example {name}"));
    (topic, serde_json::from_slice(&body).unwrap())
}

fn parse(topic: &str, body: &[u8]) -> OrderEvent {
    api::order_event(topic, body, STORE).unwrap_or_else(|e| panic!("{topic}: {e}"))
}

fn minor(p: &Payment) -> (bool, i64) {
    match p {
        Payment::CashOnDelivery { amount } => (true, amount.minor),
        Payment::Prepaid { order_total } => (false, order_total.minor),
    }
}

#[test]
fn the_schema_is_a_valid_2020_12_schema_of_the_parsers_version() {
    let schema = schema();
    jsonschema::meta::validate(&schema).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["properties"]["schema_version"]["const"],
        api::SCHEMA_VERSION
    );
}

#[test]
fn every_example_validates_against_the_schema() {
    let v = validator(&schema());
    for (topic, name, body) in examples() {
        assert!(api::acts_on(&topic), "{name}: topic {topic}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(schema_errors(&v, &body), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn every_example_parses_into_complete_shipments() {
    for (topic, name, body) in examples() {
        let event = parse(&topic, &body);
        assert!(!event.shipments.is_empty(), "{name}");
        assert!(event.occurred_at.is_some(), "{name}");
        for draft in &event.shipments {
            assert_eq!(draft.channel, Channel::Api);
            if let Err(reasons) = draft.validate(&StoreConfig::default()) {
                panic!("{name}: {}", reasons.len());
            }
        }
    }
}

#[test]
fn the_prepaid_example_is_two_deliveries_with_their_own_keys_and_values() {
    let (topic, body) = example("order.created.prepaid-two-shipments.json");
    let event = parse(&topic, body.to_string().as_bytes());
    let shipments: Vec<_> = event
        .shipments
        .iter()
        .map(|d| d.validate(&StoreConfig::default()).unwrap())
        .collect();
    let keys: Vec<ShipmentKey> = shipments.iter().map(|s| s.key.clone()).collect();
    assert_eq!(
        keys,
        [
            ShipmentKey::new(Channel::Api, STORE, "SO-1001", "SO-1001-1"),
            ShipmentKey::new(Channel::Api, STORE, "SO-1001", "SO-1001-2"),
        ]
    );
    let values: Vec<_> = shipments.iter().map(|s| minor(&s.payment)).collect();
    assert_eq!(values, [(false, 9990), (false, 2990)]);
    assert_eq!(shipments[0].insured_value.map(|m| m.minor), Some(9990));
    assert_eq!(
        (shipments[0].parcel.pieces, shipments[1].parcel.pieces),
        (2, 1)
    );
    assert_eq!(
        shipments[0].parcel.dimensions.map(|d| d.height_mm),
        Some(150)
    );
    assert_eq!(shipments[1].parcel.dimensions, None);
    let s = &shipments[0];
    assert_eq!(s.recipient.phone.as_ref().unwrap().e164, "+4930901820");
    assert_eq!(s.address.street_line(), "Hauptstraße 5");
    assert_eq!(s.address.entrance.as_deref(), Some("B"));
    assert_eq!(
        s.window.as_ref().map(|w| (w.end - w.start).whole_hours()),
        Some(4)
    );
    assert!(s.notes.fragile);
    assert_eq!(
        event.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
        Trigger::Ship
    );
    assert!(matches!(
        event.facts.trigger(TriggerPolicy::ReadyToShip),
        Trigger::Wait { .. }
    ));
}

#[test]
fn the_cash_on_delivery_example_collects_its_amount_once_confirmed() {
    let (topic, body) = example("order.created.cash-on-delivery.json");
    let event = parse(&topic, body.to_string().as_bytes());
    assert_eq!(
        event.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
        Trigger::Ship
    );
    let s = event.shipments[0]
        .validate(&StoreConfig::default())
        .unwrap();
    assert_eq!(s.key.to_string(), "api:demo-store:2077:1");
    assert_eq!(minor(&s.payment), (true, 24900));
    assert_eq!(s.payment.cod_amount().unwrap().currency.code(), "PLN");
    assert_eq!(s.recipient.phone.unwrap().e164, "+48221234567");
    assert_eq!(s.recipient.company.as_deref(), Some("Nowak i Syn"));
    assert!(s.notes.call_before_arrival);
}

#[test]
fn the_update_ready_and_cancel_examples_follow_their_orders() {
    let (_, created) = example("order.created.prepaid-two-shipments.json");
    let created = parse("order.created", created.to_string().as_bytes());
    let (topic, updated) = example("order.updated.new-window.json");
    let updated = parse(&topic, updated.to_string().as_bytes());
    assert!(updated.occurred_at > created.occurred_at);
    let window = |e: &OrderEvent| {
        e.shipments[0]
            .validate(&StoreConfig::default())
            .unwrap()
            .window
    };
    assert_ne!(window(&updated), window(&created));

    let (topic, ready) = example("order.ready_to_ship.first-parcel.json");
    let ready = parse(&topic, ready.to_string().as_bytes());
    assert!(ready.occurred_at > updated.occurred_at);
    assert_eq!(
        ready.facts.trigger(TriggerPolicy::ReadyToShip),
        Trigger::Ship
    );
    assert_eq!(ready.shipments.len(), 1);
    assert_eq!(ready.shipments[0].shipment_id, "SO-1001-1");

    let (_, cod) = example("order.created.cash-on-delivery.json");
    let cod = parse("order.created", cod.to_string().as_bytes());
    let (topic, cancelled) = example("order.cancelled.json");
    let cancelled = parse(&topic, cancelled.to_string().as_bytes());
    assert_eq!(cancelled.order_id, cod.order_id);
    assert!(cancelled.occurred_at > cod.occurred_at);
    for policy in [
        TriggerPolicy::PaymentOrConfirmation,
        TriggerPolicy::ReadyToShip,
    ] {
        assert!(matches!(
            cancelled.facts.trigger(policy),
            Trigger::Cancel { .. }
        ));
    }
    // The topic alone cancels, whatever the body says.
    let (_, mut body) = example("order.cancelled.json");
    body["order"]["cancelled"] = json!(false);
    let e = parse("order.cancelled", body.to_string().as_bytes());
    assert!(e.facts.cancelled);
}

/// Sets (Some) or removes (None) the value at a JSON pointer.
fn with(mut body: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    let node = body
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}"));
    match (node, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(last.to_owned(), v);
        }
        (Value::Object(map), None) => {
            assert!(map.remove(last).is_some(), "{pointer} absent already");
        }
        (Value::Array(list), Some(v)) => list[last.parse::<usize>().unwrap()] = v,
        (other, _) => panic!("{pointer}: {other}"),
    }
    body
}

#[derive(Debug, PartialEq)]
enum Verdict {
    /// The parser refused the body: the payload is reviewed whole.
    Refused,
    /// It parsed; at least one shipment goes to review with field reasons.
    Reviewed,
    Accepted,
}

fn verdict(topic: &str, body: &Value) -> (Verdict, String) {
    match api::order_event(topic, body.to_string().as_bytes(), STORE) {
        Err(e) => (Verdict::Refused, e.to_string()),
        Ok(event) => {
            let reasons: Vec<ReviewReason> = event
                .shipments
                .iter()
                .filter_map(|d| d.validate(&StoreConfig::default()).err())
                .flatten()
                .collect();
            if reasons.is_empty() {
                (Verdict::Accepted, String::new())
            } else {
                let codes: Vec<&str> = reasons.iter().map(ReviewReason::code).collect();
                (Verdict::Reviewed, codes.join(","))
            }
        }
    }
}

#[test]
fn bodies_the_schema_refuses_are_refused_or_reviewed_as_the_readme_says() {
    use Verdict::{Refused, Reviewed};
    let (_, prepaid) = example("order.created.prepaid-two-shipments.json");
    let (_, cod) = example("order.created.cash-on-delivery.json");
    let long_id = "x".repeat(129);
    let cases: Vec<(&Value, &str, Option<Value>, Verdict)> = vec![
        (&prepaid, "/schema_version", Some(json!("2")), Refused),
        (&prepaid, "/schema_version", Some(json!(1)), Refused),
        (&prepaid, "/schema_version", None, Refused),
        (&prepaid, "/order", None, Refused),
        (&prepaid, "/order/id", Some(json!("SO:1001")), Refused),
        (&prepaid, "/order/id", Some(json!("")), Refused),
        (&prepaid, "/order/id", Some(json!(long_id)), Refused),
        (&prepaid, "/order/id", Some(json!(1001)), Refused),
        (&prepaid, "/order/payment", Some(json!("paid")), Refused),
        (&prepaid, "/order/cash_on_delivery", None, Refused),
        (&prepaid, "/order/confirmed", Some(Value::Null), Refused),
        (&prepaid, "/order/cancelled", Some(json!("false")), Refused),
        (&prepaid, "/order/updated_at", None, Refused),
        (
            &prepaid,
            "/order/updated_at",
            Some(json!("2026-11-24 09:30")),
            Refused,
        ),
        (&prepaid, "/order/shipments", Some(json!([])), Refused),
        (
            &prepaid,
            "/order/shipments/1/id",
            Some(json!("SO 1001 2")),
            Refused,
        ),
        (
            &prepaid,
            "/order/shipments/0/amount",
            Some(json!(99.9)),
            Refused,
        ),
        (
            &prepaid,
            "/order/shipments/0/pieces",
            Some(json!(-1)),
            Refused,
        ),
        (
            &prepaid,
            "/order/shipments/0/weight_grams",
            Some(json!("1800")),
            Refused,
        ),
        (
            &prepaid,
            "/order/shipments/0/dimensions_mm/height",
            None,
            Refused,
        ),
        (
            &prepaid,
            "/order/notes/fragile",
            Some(json!("yes")),
            Refused,
        ),
        (
            &prepaid,
            "/order/shipments/0/amount",
            Some(json!("99,90")),
            Reviewed,
        ),
        (
            &prepaid,
            "/order/shipments/0/amount",
            Some(json!("-5.00")),
            Reviewed,
        ),
        (&prepaid, "/order/shipments/0/amount", None, Reviewed),
        (
            &prepaid,
            "/order/shipments/0/amount",
            Some(Value::Null),
            Reviewed,
        ),
        (&prepaid, "/order/shipments/0/pieces", None, Reviewed),
        (
            &prepaid,
            "/order/shipments/0/pieces",
            Some(json!(0)),
            Reviewed,
        ),
        (&prepaid, "/order/currency", Some(json!("eur")), Reviewed),
        (&prepaid, "/order/currency", None, Reviewed),
        (&prepaid, "/order/customer", None, Reviewed),
        (&prepaid, "/order/customer/phone", None, Reviewed),
        (&prepaid, "/order/customer/name", Some(json!("")), Reviewed),
        (&prepaid, "/order/shipping_address", None, Reviewed),
        (&prepaid, "/order/shipping_address/city", None, Reviewed),
        (
            &prepaid,
            "/order/shipping_address/country_code",
            Some(json!("de")),
            Reviewed,
        ),
        (&prepaid, "/order/delivery_window/end", None, Reviewed),
        (
            &prepaid,
            "/order/delivery_window/start",
            Some(json!("tomorrow")),
            Reviewed,
        ),
        (&cod, "/order/amount", None, Reviewed),
        (&cod, "/order/pieces", None, Reviewed),
        (&cod, "/order/amount", Some(Value::Null), Reviewed),
    ];
    let v = validator(&schema());
    for (base, pointer, value, expected) in cases {
        let body = with(base.clone(), pointer, value.clone());
        let case = format!("{pointer} = {value:?}");
        assert!(
            !v.is_valid(&body),
            "{case}: the schema accepts what it should refuse"
        );
        let (got, detail) = verdict("order.updated", &body);
        assert_eq!(got, expected, "{case}: {detail}");
    }
    for raw in [&b"[]"[..], b"not json", b"{\"schema_version\": \"1\"}"] {
        let body: Option<Value> = serde_json::from_slice(raw).ok();
        assert!(body.is_none_or(|b| !v.is_valid(&b)));
        assert!(api::order_event("order.created", raw, STORE).is_err());
    }
}

#[test]
fn rules_the_schema_cannot_state_are_the_parsers() {
    let (_, prepaid) = example("order.created.prepaid-two-shipments.json");
    let twice = with(prepaid, "/order/shipments/1/id", Some(json!("SO-1001-1")));
    assert!(validator(&schema()).is_valid(&twice));
    let e = api::order_event("order.created", twice.to_string().as_bytes(), STORE).unwrap_err();
    assert!(e.to_string().contains("appears twice"), "{e}");
}

#[test]
fn contents_the_schema_cannot_judge_go_to_review() {
    let (_, prepaid) = example("order.created.prepaid-two-shipments.json");
    let v = validator(&schema());
    for (pointer, value, code) in [
        ("/order/customer/phone", json!("+49 1"), "invalid_phone"),
        (
            "/order/shipping_address/postal_code",
            json!("1011"),
            "invalid_postal_code",
        ),
        ("/order/currency", json!("XXY"), "invalid_amount"),
        (
            "/order/shipments/1/amount",
            json!("29.999"),
            "invalid_amount",
        ),
    ] {
        let body = with(prepaid.clone(), pointer, Some(value));
        assert!(v.is_valid(&body), "{pointer}");
        let (got, codes) = verdict("order.created", &body);
        assert_eq!(got, Verdict::Reviewed, "{pointer}");
        assert!(codes.contains(code), "{pointer}: {codes}");
    }
}

#[test]
fn the_documented_leniencies_drop_what_the_schema_refuses() {
    let (_, prepaid) = example("order.created.prepaid-two-shipments.json");
    let v = validator(&schema());
    let far = with(
        prepaid.clone(),
        "/order/shipping_address/latitude",
        Some(json!(152.5)),
    );
    let half = with(prepaid.clone(), "/order/shipping_address/longitude", None);
    for body in [far, half] {
        assert!(!v.is_valid(&body));
        let e = parse("order.created", body.to_string().as_bytes());
        let s = e.shipments[0].validate(&StoreConfig::default()).unwrap();
        assert_eq!((s.address.latitude, s.address.longitude), (None, None));
    }
    let flat = with(
        prepaid,
        "/order/shipments/0/dimensions_mm/height",
        Some(json!(0)),
    );
    assert!(!v.is_valid(&flat));
    let e = parse("order.created", flat.to_string().as_bytes());
    assert_eq!(e.shipments[0].dimensions, None);
}

#[test]
fn what_the_schema_accepts_parses_extra_properties_and_nulls_included() {
    let (_, prepaid) = example("order.created.prepaid-two-shipments.json");
    let (_, cod) = example("order.created.cash-on-delivery.json");
    let v = validator(&schema());
    let variants = [
        with(prepaid.clone(), "/sent_by", Some(json!("shop/3.2"))),
        with(
            prepaid.clone(),
            "/order/line_items",
            Some(json!([{"sku": "A-1", "quantity": 2}])),
        ),
        with(
            prepaid.clone(),
            "/order/shipments/0/label",
            Some(json!("box 1")),
        ),
        with(prepaid.clone(), "/order/name", Some(Value::Null)),
        with(prepaid.clone(), "/order/notes", Some(Value::Null)),
        with(prepaid.clone(), "/order/delivery_window", Some(Value::Null)),
        with(
            prepaid.clone(),
            "/order/shipments/0/insured_value",
            Some(Value::Null),
        ),
        with(cod.clone(), "/order/shipments", Some(Value::Null)),
        with(cod, "/order/dimensions_mm", Some(Value::Null)),
    ];
    for body in variants {
        assert_eq!(schema_errors(&v, &body), Vec::<String>::new(), "{body}");
        let (got, detail) = verdict("order.updated", &body);
        assert_eq!(got, Verdict::Accepted, "{detail}: {body}");
    }
}

#[test]
fn the_openapi_file_references_the_schema_and_names_what_the_code_reads() {
    let doc = openapi();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let post = &doc["paths"]["/webhooks/api/{store}"]["post"];
    let content = &post["requestBody"]["content"]["application/json"];
    let reference = content["schema"]["$ref"].as_str().unwrap();
    assert_eq!(reference, "./order-event.v1.schema.json");
    assert!(std::path::Path::new(&format!("{DOCS}/{reference}")).is_file());

    // Every example is published, and every published example exists.
    let mut published: Vec<String> = content["examples"]
        .as_object()
        .unwrap()
        .values()
        .map(|e| {
            e["externalValue"]
                .as_str()
                .unwrap()
                .trim_start_matches("./examples/")
                .to_owned()
        })
        .collect();
    published.sort();
    let files: Vec<String> = examples().into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(published, files);

    let parameters = &doc["components"]["parameters"];
    let header = |name: &str| {
        parameters[name]["name"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase()
    };
    assert_eq!(header("Signature"), api::SIGNATURE_HEADER);
    assert_eq!(header("EventId"), api::EVENT_ID_HEADER);
    assert_eq!(header("Topic"), api::TOPIC_HEADER);
    assert_eq!(header("SentAt"), api::SENT_AT_HEADER);
    assert_eq!(header("CallbackEventId"), api::EVENT_ID_HEADER);
    assert_eq!(header("CallbackTopic"), api::TOPIC_HEADER);
    for required in ["Signature", "EventId", "Topic"] {
        assert_eq!(parameters[required]["required"], true, "{required}");
    }
    assert_eq!(parameters["SentAt"]["required"], false);
    let topics: Vec<&str> = parameters["Topic"]["schema"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let known: Vec<&str> = Topic::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(topics, known);
    assert_eq!(
        parameters["CallbackTopic"]["schema"]["const"],
        TRACKING_TOPIC
    );
    assert_eq!(doc["info"]["version"], api::SCHEMA_VERSION);

    // Every internal reference resolves.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(list) => list.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    for r in found {
        if let Some(pointer) = r.strip_prefix('#') {
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }
}

#[test]
fn the_tracking_callback_matches_its_published_schema() {
    let doc = openapi();
    let mut schema = doc["components"]["schemas"]["TrackingEvent"].clone();
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    let v = validator(&schema);
    let key = ShipmentKey::new(Channel::Api, STORE, "SO-1001", "SO-1001-1");
    for url in [Some("https://track.courier.example/SBX-7F3K9Q"), None] {
        let tracking = Tracking {
            number: "SBX-7F3K9Q".into(),
            url: url.map(str::to_owned),
            company: "Sandbox Courier".into(),
        };
        let body = serde_json::to_value(TrackingEvent::new(&key, &tracking)).unwrap();
        assert_eq!(schema_errors(&v, &body), Vec::<String>::new(), "{body}");
    }
    let example = &doc["webhooks"]["shipmentTracking"]["post"]["requestBody"]["content"]
        ["application/json"]["example"];
    assert_eq!(schema_errors(&v, example), Vec::<String>::new());
    serde_json::from_value::<TrackingEvent>(example.clone()).unwrap();
}

#[test]
fn the_readmes_worked_signature_is_what_courier_bridge_computes() {
    let readme = String::from_utf8(read("README.md")).unwrap();
    let secret = "example-secret-do-not-use";
    let body = read("examples/order.cancelled.json");
    let signature = api::sign(secret.as_bytes(), &body);
    assert!(readme.contains(&format!("SECRET='{secret}'")));
    assert!(readme.contains("BODY=docs/api/examples/order.cancelled.json"));
    assert!(readme.contains(&format!("# {signature}")), "{signature}");
    assert!(readme.contains(&format!("({} bytes", body.len())));
    assert!(api::verify_signature(secret, &body, &signature));
}

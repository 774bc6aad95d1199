//! The console through its own entry point, on the domain's fakes and a user pool stand-in
//! that signs ID tokens as Cognito does (RS256, a test key whose JWKS the verifier is
//! given): sign-in and its cookie, every way a token is not a session, the inbox a page at a
//! time, the desk's actions with their roles and CSRF tokens.

use super::*;
use crate::auth::{KeySource, SignInError};
use async_trait::async_trait;
use aws_lambda_events::encodings::Body as EventBody;
use aws_lambda_events::event::apigw::ApiGatewayV2httpRequestContextHttpDescription;
use domain::messages::{TaskAction, TaskRequested};
use domain::review::{review_id, OPEN, RELEASED};
use domain::{ReviewItem, ReviewReason, ShipmentDraft};
use fakes::{FakeAudit, FakeQueue, FakeReviews, FakeSecrets, FakeShipments, FakeStoreRules};
use jsonwebtoken::jwk::JwkSet;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

const ISSUER: &str = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_TEST";
const CLIENT: &str = "console-client";
const KEY: &[u8] = b"the deployment's link key, 32 bytes+";

fn signing_key() -> jsonwebtoken::EncodingKey {
    jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!(
        "../tests/fixtures/test-signing-key.pem"
    ))
    .unwrap()
}

fn now_s() -> i64 {
    domain::clock::now_ms() / 1000
}

/// An ID token as the pool signs it; `change` alters its claims or header first.
fn token_with(
    user: &str,
    groups: &[&str],
    change: impl FnOnce(&mut serde_json::Value, &mut jsonwebtoken::Header),
) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let mut claims = serde_json::json!({
        "iss": ISSUER, "aud": CLIENT, "sub": format!("sub-{user}"), "token_use": "id",
        "cognito:username": user, "cognito:groups": groups,
        "iat": now_s(), "exp": now_s() + 3600,
    });
    change(&mut claims, &mut header);
    jsonwebtoken::encode(&header, &claims, &signing_key()).unwrap()
}

fn token(user: &str, groups: &[&str]) -> String {
    token_with(user, groups, |_, _| {})
}

/// The test key's JWKS; counts how often it is asked for past the cache.
#[derive(Default)]
struct TestKeys {
    fresh: AtomicUsize,
}

#[async_trait]
impl KeySource for TestKeys {
    async fn keys(&self, fresh: bool) -> Result<Arc<JwkSet>, String> {
        if fresh {
            self.fresh.fetch_add(1, Ordering::SeqCst);
        }
        Ok(Arc::new(
            serde_json::from_str(include_str!("../tests/fixtures/test-jwks.json")).unwrap(),
        ))
    }
}

/// The pool: ana is a dispatcher, vic a viewer, nobody is in no group.
struct TestPool;

#[async_trait]
impl SignIn for TestPool {
    async fn sign_in(&self, user: &str, password: &str) -> Result<String, SignInError> {
        match (user, password) {
            ("ana", "ana's password") => Ok(token("ana", &["dispatcher"])),
            ("vic", "vic's password") => Ok(token("vic", &["viewer"])),
            ("nobody", "nobody's password") => Ok(token("nobody", &[])),
            _ => Err(SignInError::Refused),
        }
    }
}

/// Two dead letters in TasksQueue's DLQ; what a redrive moved.
#[derive(Default)]
struct FakeDeadLetters {
    waiting: std::sync::Mutex<BTreeMap<String, Vec<aws::dlq::DeadLetter>>>,
    moved: std::sync::Mutex<Vec<String>>,
}

impl FakeDeadLetters {
    fn with_two() -> FakeDeadLetters {
        let letter = |id: &str| aws::dlq::DeadLetter {
            message_id: id.into(),
            body: format!("{{\"shipment_key\":\"shopify:acme:{id}:1\",\"action\":\"create\"}}"),
            receive_count: 5,
        };
        let fake = FakeDeadLetters::default();
        let mut waiting = fake.waiting.lock().unwrap();
        waiting.insert(
            "TasksQueue".into(),
            vec![letter("m-1"), letter("<b>m-2</b>")],
        );
        waiting.insert("SyncQueue".into(), Vec::new());
        drop(waiting);
        fake
    }
}

#[async_trait]
impl crate::dead_letters::DeadLetters for FakeDeadLetters {
    async fn depths(&self) -> Result<Vec<(String, u64)>, crate::dead_letters::DeadLetterError> {
        Ok(self
            .waiting
            .lock()
            .unwrap()
            .iter()
            .map(|(q, m)| (q.clone(), m.len() as u64))
            .collect())
    }

    async fn list(
        &self,
        queue: &str,
        max: usize,
    ) -> Result<Vec<aws::dlq::DeadLetter>, crate::dead_letters::DeadLetterError> {
        let waiting = self.waiting.lock().unwrap();
        let letters = waiting
            .get(queue)
            .ok_or_else(|| crate::dead_letters::DeadLetterError::UnknownQueue(queue.into()))?;
        Ok(letters.iter().take(max).cloned().collect())
    }

    async fn redrive(&self, queue: &str) -> Result<usize, crate::dead_letters::DeadLetterError> {
        let mut waiting = self.waiting.lock().unwrap();
        let letters = waiting
            .get_mut(queue)
            .ok_or_else(|| crate::dead_letters::DeadLetterError::UnknownQueue(queue.into()))?;
        let moved = std::mem::take(letters);
        self.moved
            .lock()
            .unwrap()
            .extend(moved.iter().map(|m| m.message_id.clone()));
        Ok(moved.len())
    }
}

struct World {
    console: Console,
    dead_letters: Arc<FakeDeadLetters>,
    shipments: Arc<FakeShipments>,
    history: Arc<fakes::FakeHistory>,
    outbox: Arc<fakes::FakeOutbox>,
    reviews: Arc<FakeReviews>,
    tasks: Arc<FakeQueue<TaskRequested>>,
    keys: Arc<TestKeys>,
    cash: Arc<fakes::FakeCashBook>,
    reports: Arc<fakes::FakeReports>,
    plans: Arc<fakes::FakePlans>,
}

fn world() -> World {
    let secrets = Arc::new(FakeSecrets::default());
    secrets.put(
        links::SECRET_NAME,
        serde_json::to_string(&LinkSecret::first(KEY)).unwrap(),
    );
    let reviews = Arc::new(FakeReviews::default());
    let tasks = Arc::new(FakeQueue::default());
    let keys = Arc::new(TestKeys::default());
    let dead_letters = Arc::new(FakeDeadLetters::with_two());
    let shipments = Arc::new(FakeShipments::default());
    let history = Arc::new(fakes::FakeHistory::default());
    let outbox = Arc::new(fakes::FakeOutbox::default());
    let cash = Arc::new(fakes::FakeCashBook::default());
    let reports = Arc::new(fakes::FakeReports::default());
    let plans = Arc::new(fakes::FakePlans::default());
    World {
        cash: cash.clone(),
        reports: reports.clone(),
        plans: plans.clone(),
        dead_letters: dead_letters.clone(),
        shipments: shipments.clone(),
        history: history.clone(),
        outbox: outbox.clone(),
        console: Console {
            reviews: reviews.clone(),
            shipments,
            history,
            outbox,
            rules: Arc::new(FakeStoreRules::default()),
            tasks: tasks.clone(),
            audit: Arc::new(FakeAudit::default()),
            secrets,
            sign_in: Arc::new(TestPool),
            verifier: Arc::new(Verifier {
                issuer: ISSUER.into(),
                client_id: CLIENT.into(),
                keys: keys.clone(),
            }),
            dead_letters,
            cash,
            reports,
            plans,
        },
        reviews,
        tasks,
        keys,
    }
}

fn request(
    method: http::Method,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> ApiGatewayV2httpRequest {
    let mut request = ApiGatewayV2httpRequest::default();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    request.raw_path = Some(path.to_owned());
    request.raw_query_string = Some(query.to_owned());
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = method;
    request.request_context.http = http;
    request.cookies = cookie.map(|c| vec![c.to_owned()]);
    if let Some(form) = form {
        request.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        request.body = Some(form.to_owned());
    }
    request
}

fn get(path: &str, session: Option<&str>) -> ApiGatewayV2httpRequest {
    let cookie = session.map(|t| format!("cb_session={t}"));
    request(http::Method::GET, path, cookie.as_deref(), None)
}

fn post(path: &str, session: &str, form: &str) -> ApiGatewayV2httpRequest {
    let cookie = format!("cb_session={session}");
    request(http::Method::POST, path, Some(&cookie), Some(form))
}

fn body(answer: &ApiGatewayV2httpResponse) -> String {
    match &answer.body {
        Some(EventBody::Text(text)) => text.clone(),
        other => panic!("a text body, got {other:?}"),
    }
}

fn location(answer: &ApiGatewayV2httpResponse) -> &str {
    answer
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The CSRF token in a page's first form.
fn csrf_of(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

fn form_encode(value: &str) -> String {
    pages::console::encode(value)
}

/// An open item whose draft needs its postal code fixed before it can be released.
async fn item_to_fix(w: &World, order: &str) -> String {
    let shipment = fakes::sample::shipment("acme", order);
    let mut draft = ShipmentDraft::from(&shipment);
    if let Some(address) = draft.address.as_mut() {
        address.postal_code = Some("1011".into());
    }
    let mut item = ReviewItem::new(
        &shipment.key.to_string(),
        "shipment",
        vec![ReviewReason::InvalidPostalCode {
            value: "1011".into(),
            country: "DE".into(),
        }],
    );
    item.shipment_key = Some(shipment.key.to_string());
    item.draft = Some(draft);
    item.event_ms = Some(domain::clock::now_ms() - 60_000);
    domain::ports::ReviewInbox::open(w.reviews.as_ref(), &item)
        .await
        .unwrap();
    item.id
}

#[tokio::test]
async fn without_a_session_every_page_sends_to_sign_in() {
    let w = world();
    for path in ["/console/inbox", "/console/inbox/review%3Ax"] {
        let answer = w.console.handle(get(path, None)).await;
        assert_eq!(answer.status_code, 303, "{path}");
        assert_eq!(location(&answer), "/console/login");
    }
    let answer = w
        .console
        .handle(request(
            http::Method::POST,
            "/console/inbox/review%3Ax/release",
            None,
            Some("csrf=x"),
        ))
        .await;
    assert_eq!(answer.status_code, 303);
    assert!(w.tasks.sent().is_empty());
}

#[tokio::test]
async fn signing_in_keeps_the_token_in_a_secure_httponly_strict_cookie() {
    let w = world();
    let form = w.console.handle(get("/console/login", None)).await;
    assert_eq!(form.status_code, 200);
    let nonce_cookie = form.cookies[0].split(';').next().unwrap().to_owned();
    assert!(nonce_cookie.starts_with("cb_login="), "{nonce_cookie}");
    let csrf = csrf_of(&body(&form));

    let answer = w
        .console
        .handle(request(
            http::Method::POST,
            "/console/login",
            Some(&nonce_cookie),
            Some(&format!(
                "username=ana&password=ana%27s+password&csrf={}",
                form_encode(&csrf)
            )),
        ))
        .await;
    assert_eq!(answer.status_code, 303, "{}", body(&answer));
    assert_eq!(location(&answer), "/console/inbox");
    let session = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("cb_session="))
        .expect("the session cookie");
    for attribute in [
        "Path=/console",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=3600",
    ] {
        assert!(session.contains(attribute), "{session}");
    }
    let token = session["cb_session=".len()..].split(';').next().unwrap();
    let inbox = w.console.handle(get("/console/inbox", Some(token))).await;
    assert_eq!(inbox.status_code, 200);
    assert!(body(&inbox).contains("ana · dispatcher"));
}

#[tokio::test]
async fn a_wrong_password_a_foreign_form_or_no_group_signs_nobody_in() {
    let w = world();
    let form = w.console.handle(get("/console/login", None)).await;
    let nonce_cookie = form.cookies[0].split(';').next().unwrap().to_owned();
    let csrf = form_encode(&csrf_of(&body(&form)));
    let attempt = |fields: String, cookie: Option<String>| {
        request(
            http::Method::POST,
            "/console/login",
            cookie.as_deref(),
            Some(&fields),
        )
    };

    let wrong = w
        .console
        .handle(attempt(
            format!("username=ana&password=guess&csrf={csrf}"),
            Some(nonce_cookie.clone()),
        ))
        .await;
    assert_eq!(wrong.status_code, 401);
    assert!(body(&wrong).contains("Incorrect user name or password."));
    assert!(!wrong.cookies.iter().any(|c| c.starts_with("cb_session=")));

    // A form another site posts has no nonce cookie of ours (or not the one it was made for).
    for cookie in [None, Some("cb_login=somebody-elses".to_owned())] {
        let foreign = w
            .console
            .handle(attempt(
                format!("username=ana&password=ana%27s+password&csrf={csrf}"),
                cookie,
            ))
            .await;
        assert_eq!(foreign.status_code, 403);
        assert!(foreign.cookies.is_empty());
    }

    let groupless = w
        .console
        .handle(attempt(
            format!("username=nobody&password=nobody%27s+password&csrf={csrf}"),
            Some(nonce_cookie),
        ))
        .await;
    assert_eq!(groupless.status_code, 403);
    assert!(body(&groupless).contains("none of the console's groups"));
    assert!(!groupless
        .cookies
        .iter()
        .any(|c| c.starts_with("cb_session=")));
}

#[tokio::test]
async fn a_token_that_is_not_the_pools_current_id_token_is_no_session() {
    let w = world();
    let mut tampered = token("vic", &["viewer"]);
    // vic's token with admin's groups spliced in: the signature no longer matches.
    let admin = token("vic", &["admin"]);
    let payload = admin.split('.').nth(1).unwrap().to_owned();
    let parts: Vec<&str> = tampered.split('.').collect();
    tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    let refused = [
        (
            "expired",
            token_with("ana", &["admin"], |c, _| c["exp"] = (now_s() - 120).into()),
        ),
        (
            "another app",
            token_with("ana", &["admin"], |c, _| c["aud"] = "other-client".into()),
        ),
        (
            "another pool",
            token_with("ana", &["admin"], |c, _| {
                c["iss"] =
                    "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_OTHER".into()
            }),
        ),
        (
            "an access token",
            token_with("ana", &["admin"], |c, _| c["token_use"] = "access".into()),
        ),
        ("no group", token("ana", &[])),
        ("tampered", tampered),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in refused {
        let answer = w.console.handle(get("/console/inbox", Some(&token))).await;
        assert_eq!(answer.status_code, 303, "{what}");
        assert_eq!(location(&answer), "/console/login", "{what}");
        // The stale cookie is cleared.
        assert!(
            answer.cookies.iter().any(|c| c.starts_with("cb_session=;")),
            "{what}"
        );
    }
    // Only a key id the keys lack asks for them afresh (the pool rotated), then refuses.
    assert_eq!(w.keys.fresh.load(Ordering::SeqCst), 0);
    let unknown = token_with("ana", &["admin"], |_, h| h.kid = Some("elsewhere".into()));
    let answer = w
        .console
        .handle(get("/console/inbox", Some(&unknown)))
        .await;
    assert_eq!(location(&answer), "/console/login");
    assert_eq!(w.keys.fresh.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_inbox_lists_a_page_and_links_the_next() {
    let w = world();
    for i in 0..30 {
        let mut item = ReviewItem::new(
            &format!("shopify:acme:{i}:1"),
            "shipment",
            vec![ReviewReason::MissingPhone],
        );
        item.created_at = format!("2026-12-06T10:00:{i:02}Z");
        domain::ports::ReviewInbox::open(w.reviews.as_ref(), &item)
            .await
            .unwrap();
    }
    let session = token("vic", &["viewer"]);
    let first = body(
        &w.console
            .handle(get("/console/inbox", Some(&session)))
            .await,
    );
    assert_eq!(first.matches("<tr><td>").count(), 25);
    assert!(first.contains("review:shopify:acme:29:1"));
    let next = first
        .split(r#"<a rel="next" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&");
    let second = body(&w.console.handle(get(&next, Some(&session))).await);
    assert_eq!(second.matches("<tr><td>").count(), 5);
    assert!(second.contains("review:shopify:acme:0:1"));
    assert!(!second.contains("rel=\"next\""));
    let filtered = body(
        &w.console
            .handle(get(
                "/console/inbox?reason=address_not_found",
                Some(&session),
            ))
            .await,
    );
    assert!(filtered.contains("No open items."), "{filtered}");
}

#[tokio::test]
async fn a_dispatcher_fixes_and_releases_an_item_and_one_task_is_asked_for() {
    let w = world();
    let id = item_to_fix(&w, "3003").await;
    let session = token("ana", &["dispatcher"]);
    let path = pages::console::item_link(&id);
    let page = body(&w.console.handle(get(&path, Some(&session))).await);
    assert!(page.contains("invalid postal code"), "{page}");
    let csrf = form_encode(&csrf_of(&page));

    // Released before the fix: refused with the reasons, nothing sent.
    let early = w
        .console
        .handle(post(
            &format!("{path}/release"),
            &session,
            &format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(early.status_code, 422);
    assert!(body(&early).contains("Not released"));
    assert!(w.tasks.sent().is_empty());

    let fixed = w
        .console
        .handle(post(
            &format!("{path}/fix"),
            &session,
            &format!(
                "csrf={csrf}&fixes={}",
                form_encode("address.postal_code=10119\n")
            ),
        ))
        .await;
    assert_eq!(fixed.status_code, 303, "{}", body(&fixed));
    let released = w
        .console
        .handle(post(
            &format!("{path}/release"),
            &session,
            &format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(released.status_code, 303);
    assert_eq!(location(&released), format!("{path}?done=released"));
    let item = w.reviews.items().pop().unwrap();
    assert_eq!(item.status, RELEASED);
    assert!(item.resolution.unwrap().starts_with("released by ana"));
    assert_eq!(
        item.fixes,
        vec!["address.postal_code=10119 (by ana)".to_owned()]
    );
    let key = id.trim_start_matches("review:").parse().unwrap();
    assert_eq!(
        w.tasks.sent(),
        vec![TaskRequested::new(key, TaskAction::Create)]
    );

    // Again (a second tab): refused as not open; still one request.
    let again = w
        .console
        .handle(post(
            &format!("{path}/release"),
            &session,
            &format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(again.status_code, 409);
    assert!(
        body(&again).contains("is released, not open"),
        "{}",
        body(&again)
    );
    assert_eq!(w.tasks.sent().len(), 1);
}

#[tokio::test]
async fn a_dispatchers_fix_is_held_to_the_limits_and_loses_its_bidi_controls() {
    let w = world();
    let id = item_to_fix(&w, "3010").await;
    let session = token("ana", &["dispatcher"]);
    let path = pages::console::item_link(&id);
    let page = body(&w.console.handle(get(&path, Some(&session))).await);
    let csrf = form_encode(&csrf_of(&page));
    let fix = |fixes: String| {
        post(
            &format!("{path}/fix"),
            &session,
            &format!("csrf={csrf}&fixes={}", form_encode(&fixes)),
        )
    };

    // A name with a right-to-left override and a street no courier should be sent.
    let long_street = "S".repeat(251);
    let fixed = w
        .console
        .handle(fix(format!(
            "recipient_name=\u{202E}Kim Weber\naddress.street={long_street}\n"
        )))
        .await;
    assert_eq!(fixed.status_code, 303, "{}", body(&fixed));
    let item = w.reviews.items().pop().unwrap();
    assert_eq!(item.status, OPEN);
    let draft = item.draft.as_ref().unwrap();
    assert_eq!(draft.recipient_name.as_deref(), Some("Kim Weber"));
    assert_eq!(
        draft.address.as_ref().unwrap().street.as_deref(),
        Some(long_street.as_str()),
        "kept whole, never cut"
    );
    assert!(
        item.reasons.contains(&ReviewReason::TooLong {
            field: "address.street".into(),
            length: 251,
            limit: 250,
        }),
        "{:?}",
        item.reasons
    );
    assert!(!item.fixes[0].contains('\u{202E}'), "{:?}", item.fixes);
    let page = body(&w.console.handle(get(&path, Some(&session))).await);
    assert!(page.contains("address.street too long"), "{page}");

    // Not released while too long.
    let early = w
        .console
        .handle(post(
            &format!("{path}/release"),
            &session,
            &format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(early.status_code, 422);
    assert!(w.tasks.sent().is_empty());

    let fixed = w
        .console
        .handle(fix(
            "address.street=Torstraße 1\naddress.postal_code=10119\n".into(),
        ))
        .await;
    assert_eq!(fixed.status_code, 303, "{}", body(&fixed));
    let released = w
        .console
        .handle(post(
            &format!("{path}/release"),
            &session,
            &format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(released.status_code, 303, "{}", body(&released));
    let key: domain::ShipmentKey = id.trim_start_matches("review:").parse().unwrap();
    let record = w.shipments.record(&key).expect("released into a shipment");
    assert_eq!(record.shipment.recipient.name, "Kim Weber");
    assert_eq!(w.tasks.sent().len(), 1);
}

#[tokio::test]
async fn a_viewer_has_no_buttons_and_a_crafted_post_is_forbidden() {
    let w = world();
    let id = item_to_fix(&w, "3004").await;
    let viewer = token("vic", &["viewer"]);
    let path = pages::console::item_link(&id);
    let page = body(&w.console.handle(get(&path, Some(&viewer))).await);
    assert!(!page.contains("/release\""), "{page}");
    assert!(!page.contains("/dismiss\""), "{page}");
    // The viewer's own, valid CSRF token (from the sign-out form) does not make it allowed.
    let csrf = form_encode(&csrf_of(&page));
    for action in ["release", "dismiss", "fix"] {
        let answer = w
            .console
            .handle(post(
                &format!("{path}/{action}"),
                &viewer,
                &format!("csrf={csrf}&reason=x&fixes=phone%3D1"),
            ))
            .await;
        assert_eq!(answer.status_code, 403, "{action}");
    }
    assert_eq!(w.reviews.open_items().len(), 1);
    assert!(w.reviews.items()[0].fixes.is_empty());
    assert!(w.tasks.sent().is_empty());
}

#[tokio::test]
async fn a_form_without_its_sessions_csrf_token_does_nothing() {
    let w = world();
    let id = item_to_fix(&w, "3005").await;
    let ana = token("ana", &["dispatcher"]);
    let other = token_with("ana", &["dispatcher"], |c, _| {
        c["iat"] = (now_s() - 10).into()
    });
    let path = pages::console::item_link(&id);
    let others_csrf = form_encode(&csrf_of(&body(
        &w.console.handle(get(&path, Some(&other))).await,
    )));
    for form in [
        "".to_owned(),
        "csrf=forged".to_owned(),
        format!("csrf={others_csrf}"),
    ] {
        let answer = w
            .console
            .handle(post(
                &format!("{path}/dismiss"),
                &ana,
                &format!("{form}&reason=spam"),
            ))
            .await;
        assert_eq!(answer.status_code, 403, "{form}");
    }
    assert_eq!(w.reviews.items()[0].status, OPEN);
}

#[tokio::test]
async fn what_a_store_or_customer_typed_is_shown_as_text() {
    let w = world();
    let shipment = fakes::sample::shipment("acme", "3006");
    let mut draft = ShipmentDraft::from(&shipment);
    draft.recipient_name = Some("<script>alert(1)</script>".into());
    let mut item = ReviewItem::new(
        &shipment.key.to_string(),
        "shipment",
        vec![ReviewReason::MissingPhone],
    );
    item.draft = Some(draft);
    domain::ports::ReviewInbox::open(w.reviews.as_ref(), &item)
        .await
        .unwrap();
    let page = body(
        &w.console
            .handle(get(
                &pages::console::item_link(&review_id(&shipment.key.to_string())),
                Some(&token("vic", &["viewer"])),
            ))
            .await,
    );
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
}

#[tokio::test]
async fn every_role_reads_a_stores_rules_and_only_an_admin_edits_them() {
    let w = world();
    let path = pages::console::store_link("shopify", "acme");
    let viewer = body(
        &w.console
            .handle(get(&path, Some(&token("vic", &["viewer"]))))
            .await,
    );
    assert!(viewer.contains("the defaults below apply"), "{viewer}");
    assert!(!viewer.contains("<textarea"), "{viewer}");
    let admin_token = token("ada", &["admin"]);
    let admin = body(&w.console.handle(get(&path, Some(&admin_token))).await);
    assert!(admin.contains("<textarea"), "{admin}");
    let csrf = form_encode(&csrf_of(&admin));

    let rules = r#"{"time_zone": "Europe/Berlin", "delivery_slots": {"windows": ["09:00-12:00"]}}"#;
    let saved = w
        .console
        .handle(post(
            &path,
            &admin_token,
            &format!("csrf={csrf}&config={}", form_encode(rules)),
        ))
        .await;
    assert_eq!(saved.status_code, 303, "{}", body(&saved));
    assert_eq!(location(&saved), format!("{path}?done=saved"));
    let stored = w
        .console
        .rules
        .read(domain::Channel::Shopify, "acme")
        .await
        .unwrap()
        .expect("stored rules");
    assert_eq!(
        stored.time_zone.as_ref().map(|z| z.as_str()),
        Some("Europe/Berlin")
    );
    let shown = body(
        &w.console
            .handle(get(&format!("{path}?done=saved"), Some(&admin_token)))
            .await,
    );
    assert!(shown.contains("Saved"), "{shown}");
    assert!(shown.contains("09:00-12:00"), "{shown}");

    // A dispatcher's crafted save is refused, whatever it carries.
    let ana = token("ana", &["dispatcher"]);
    let anas_csrf = form_encode(&csrf_of(&body(
        &w.console.handle(get(&path, Some(&ana))).await,
    )));
    let refused = w
        .console
        .handle(post(
            &path,
            &ana,
            &format!("csrf={anas_csrf}&config=%7B%7D"),
        ))
        .await;
    assert_eq!(refused.status_code, 403);
    assert!(w
        .console
        .rules
        .read(domain::Channel::Shopify, "acme")
        .await
        .unwrap()
        .is_some_and(|c| c.time_zone.is_some()));
}

#[tokio::test]
async fn rules_that_do_not_parse_are_refused_in_words_and_nothing_is_written() {
    let w = world();
    let path = pages::console::store_link("woocommerce", "shop-2");
    let admin_token = token("ada", &["admin"]);
    let csrf = form_encode(&csrf_of(&body(
        &w.console.handle(get(&path, Some(&admin_token))).await,
    )));
    for (rules, words) in [
        (r#"{"triger": "ready_to_ship"}"#, "unknown field `triger`"),
        (
            r#"{"time_zone": "Europe/Berlín"}"#,
            "is not an IANA time zone",
        ),
        (
            r#"{"delivery_slots": {"windows": ["12:00-09:00"]}}"#,
            "ends before it starts",
        ),
        ("not json", "These rules are not valid"),
    ] {
        let answer = w
            .console
            .handle(post(
                &path,
                &admin_token,
                &format!("csrf={csrf}&config={}", form_encode(rules)),
            ))
            .await;
        assert_eq!(answer.status_code, 422, "{rules}");
        let html = body(&answer);
        assert!(html.contains(words), "{rules}: {html}");
        // The text stays in the form to be corrected.
        assert!(
            html.contains(&maud::html! { (rules) }.into_string()),
            "{html}"
        );
    }
    assert!(w
        .console
        .rules
        .read(domain::Channel::WooCommerce, "shop-2")
        .await
        .unwrap()
        .is_none());
    // Not a store: the page does not exist; the opening form says why.
    let session = Some(admin_token.as_str());
    assert_eq!(
        w.console
            .handle(get("/console/stores/shopify/Not%20A%20Store", session))
            .await
            .status_code,
        404
    );
    assert_eq!(
        w.console
            .handle(get("/console/stores/ebay/shop", session))
            .await
            .status_code,
        404
    );
    let opened = w
        .console
        .handle(get(
            "/console/stores/open?channel=shopify&store=Bad+Name",
            session,
        ))
        .await;
    assert_eq!(opened.status_code, 422);
    assert!(body(&opened).contains("is not a store name"));
    let opened = w
        .console
        .handle(get(
            "/console/stores/open?channel=shopify&store=acme",
            session,
        ))
        .await;
    assert_eq!(location(&opened), "/console/stores/shopify/acme");
}

#[tokio::test]
async fn the_dead_letters_are_listed_and_redriven_only_with_a_confirmation() {
    let w = world();
    let vic = token("vic", &["viewer"]);
    let index = body(&w.console.handle(get("/console/dlq", Some(&vic))).await);
    assert!(
        index.contains(r#"<a href="/console/dlq/TasksQueue">TasksQueue</a></td><td>2</td>"#),
        "{index}"
    );
    let queue = body(
        &w.console
            .handle(get("/console/dlq/TasksQueue", Some(&vic)))
            .await,
    );
    assert!(queue.contains("shopify:acme:m-1:1"), "{queue}");
    assert!(
        queue.contains("&lt;b&gt;m-2&lt;/b&gt;"),
        "a message id is text: {queue}"
    );
    assert!(
        !queue.contains("/redrive"),
        "a viewer has no redrive: {queue}"
    );
    let csrf = form_encode(&csrf_of(&queue));
    let refused = w
        .console
        .handle(post(
            "/console/dlq/TasksQueue/redrive",
            &vic,
            &format!("csrf={csrf}&confirm=yes"),
        ))
        .await;
    assert_eq!(refused.status_code, 403);

    let ana = token("ana", &["dispatcher"]);
    let page = body(
        &w.console
            .handle(get("/console/dlq/TasksQueue", Some(&ana)))
            .await,
    );
    let csrf = form_encode(&csrf_of(&page));
    let unconfirmed = w
        .console
        .handle(post(
            "/console/dlq/TasksQueue/redrive",
            &ana,
            &format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(unconfirmed.status_code, 422);
    assert!(body(&unconfirmed).contains("Tick the box"));
    assert!(w.dead_letters.moved.lock().unwrap().is_empty());

    let redriven = w
        .console
        .handle(post(
            "/console/dlq/TasksQueue/redrive",
            &ana,
            &format!("csrf={csrf}&confirm=yes"),
        ))
        .await;
    assert_eq!(redriven.status_code, 303);
    assert_eq!(location(&redriven), "/console/dlq/TasksQueue?redriven=2");
    assert_eq!(*w.dead_letters.moved.lock().unwrap(), ["m-1", "<b>m-2</b>"]);
    let after = body(
        &w.console
            .handle(get("/console/dlq/TasksQueue?redriven=2", Some(&ana)))
            .await,
    );
    assert!(
        after.contains("2 message(s) sent back to TasksQueue."),
        "{after}"
    );
    assert!(after.contains("None waiting."), "{after}");
    assert_eq!(
        w.console
            .handle(get("/console/dlq/NoSuchQueue", Some(&ana)))
            .await
            .status_code,
        404
    );
}

#[tokio::test]
async fn a_shipments_timeline_shows_its_path_its_courier_events_and_its_messages() {
    use domain::ports::{Outbox, StatusHistory};
    let w = world();
    let mut record = fakes::sample::with_task(
        &fakes::sample::shipment("acme", "4004"),
        &fakes::sample::task(9),
        domain::ShipmentStatus::OutForDelivery,
    );
    record.courier = Some(domain::CourierKind::Sandbox);
    record.transitions = vec![
        (domain::ShipmentStatus::Created, 1_796_650_000_000),
        (domain::ShipmentStatus::OutForDelivery, 1_796_653_600_000),
    ];
    let key = record.shipment.key.clone();
    w.shipments.insert(record.clone());
    w.history
        .record(
            &key,
            &domain::history::HistoryEntry {
                at_ms: 1_796_653_600_000,
                event_id: "inbound:1".into(),
                courier: domain::CourierKind::Sandbox,
                courier_event: "<i>out_for_delivery</i>".into(),
                status: Some(domain::ShipmentStatus::OutForDelivery),
            },
        )
        .await
        .unwrap();
    let message = domain::notify::OutboxEntry {
        id: domain::notify::OutboxEntry::id_for(&key.to_string(), "on_the_way"),
        shipment_key: key.to_string(),
        template: "on_the_way".into(),
        channel: domain::notify::NotifyChannel::Sms,
        to: "+4930901820".into(),
        subject: None,
        body: "on its way".into(),
        state: domain::notify::OutboxState::Pending,
        attempts: 0,
        provider: None,
        provider_id: None,
        last_error: None,
        created_ms: 1_796_653_600_000,
    };
    w.outbox.add(&message).await.unwrap();

    let vic = token("vic", &["viewer"]);
    let page = body(
        &w.console
            .handle(get(
                &pages::console::shipment_link(&key.to_string()),
                Some(&vic),
            ))
            .await,
    );
    assert!(
        page.contains(r#"<dd class="status">OutForDelivery</dd>"#),
        "{page}"
    );
    assert!(page.contains("TRK0009"), "{page}");
    assert!(
        page.contains("<li>Created<time>2026-12-07 13:26:40 UTC</time></li>"),
        "{page}"
    );
    assert!(
        page.contains("sandbox: &lt;i&gt;out_for_delivery&lt;/i&gt;"),
        "the courier's words as text: {page}"
    );
    assert!(
        page.contains("<td>on_the_way</td><td>sms</td><td>PENDING</td><td>0</td>"),
        "{page}"
    );

    let missing = format!(
        "/console/shipments/{}",
        pages::console::encode("shopify:acme:9999:1")
    );
    assert_eq!(
        w.console
            .handle(get(&missing, Some(&vic)))
            .await
            .status_code,
        404
    );
    assert_eq!(
        w.console
            .handle(get("/console/shipments/not-a-key", Some(&vic)))
            .await
            .status_code,
        404
    );
    assert_eq!(
        w.console
            .handle(get(&pages::console::shipment_link(&key.to_string()), None))
            .await
            .status_code,
        303
    );
}

#[tokio::test]
async fn the_shipment_list_finds_a_day_a_tracking_number_and_an_order_and_pages_on() {
    use domain::courier::CourierKind;
    use domain::ports::ShipmentStore;
    let w = world();
    // 2026-12-06 09:00 UTC and on, a minute apart; 30 of them, every tenth with a task.
    let start: i64 = 1_796_547_600_000;
    for i in 0..30i64 {
        let shipment = fakes::sample::shipment("acme", &format!("{}", 7000 + i));
        ShipmentStore::record(w.shipments.as_ref(), &shipment, start + i * 60_000, "in")
            .await
            .unwrap();
        if i % 10 == 0 {
            let task = domain::CourierTask {
                task_id: format!("tsk_{i}"),
                tracking_number: format!("SBX-{i}"),
                tracking_url: None,
            };
            w.shipments
                .record_task(&shipment.key, CourierKind::Sandbox, &task)
                .await
                .unwrap();
        }
    }
    let viewer = token("vic", &["viewer"]);
    let first = w
        .console
        .handle(get("/console/shipments?day=2026-12-06", Some(&viewer)))
        .await;
    assert_eq!(first.status_code, 200);
    let html = body(&first);
    assert!(html.contains("Shipments of 2026-12-06 (UTC)"), "{html}");
    assert!(html.contains("shopify:acme:7029:1"), "the newest first");
    assert!(!html.contains("shopify:acme:7004:1"), "25 a page");
    let next = html
        .split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&");
    assert!(
        next.starts_with("/console/shipments?day=2026-12-06&after="),
        "{next}"
    );
    let second = body(&w.console.handle(get(&next, Some(&viewer))).await);
    assert!(second.contains("shopify:acme:7004:1") && second.contains("shopify:acme:7000:1"));
    assert!(!second.contains("shopify:acme:7005:1"), "nothing twice");
    assert!(!second.contains("rel=\"next\""), "the last page");

    // A status narrows the day; a tracking number or an order finds its shipment.
    let created = body(
        &w.console
            .handle(get(
                "/console/shipments?day=2026-12-06&status=Created",
                Some(&viewer),
            ))
            .await,
    );
    for order in ["7000", "7010", "7020"] {
        assert!(
            created.contains(&format!("shopify:acme:{order}:1")),
            "{order}"
        );
    }
    assert!(!created.contains("shopify:acme:7001:1"));
    let tracked = body(
        &w.console
            .handle(get("/console/shipments?number=SBX-10", Some(&viewer)))
            .await,
    );
    assert!(tracked.contains("Tracking number SBX-10") && tracked.contains("shopify:acme:7010:1"));
    assert!(!tracked.contains("shopify:acme:7000:1"));
    let order = body(
        &w.console
            .handle(get(
                "/console/shipments?number=%237015&channel=shopify&store=acme",
                Some(&viewer),
            ))
            .await,
    );
    assert!(order.contains("Order 7015 of shopify/acme") && order.contains("shopify:acme:7015:1"));
    // With a store, a number that is no order there may still be a tracking number.
    let either = body(
        &w.console
            .handle(get(
                "/console/shipments?number=SBX-20&channel=shopify&store=acme",
                Some(&viewer),
            ))
            .await,
    );
    assert!(either.contains("shopify:acme:7020:1"), "{either}");
    let none = body(
        &w.console
            .handle(get("/console/shipments?number=NOPE", Some(&viewer)))
            .await,
    );
    assert!(none.contains("Tracking number NOPE: none."), "{none}");

    let bad = w
        .console
        .handle(get("/console/shipments?day=06.12.2026", Some(&viewer)))
        .await;
    assert_eq!(bad.status_code, 400);
    assert!(body(&bad).contains("is not a day (YYYY-MM-DD)"));
    let no_session = w.console.handle(get("/console/shipments", None)).await;
    assert_eq!(no_session.status_code, 303);
}

fn eur(minor: i64) -> domain::Money {
    domain::Money {
        minor,
        currency: "EUR".parse().unwrap(),
    }
}

#[tokio::test]
async fn a_dispatcher_records_a_hand_over_once_and_a_viewer_cannot() {
    use domain::cod::{CashOutTask, CourierId};
    use domain::ports::{CashBook, ReportShelf};
    let w = world();
    let day = domain::cod::parse_day("2026-12-05").unwrap();
    let courier = CourierId::parse("sandbox/drv_01").unwrap();
    w.cash
        .put_cash_out(&CashOutTask {
            courier: courier.clone(),
            day,
            collected: eur(12_540),
            handed_over: eur(10_000),
            due: eur(2_540),
            revision: 0,
        })
        .await
        .unwrap();
    w.reports
        .put(
            "cod/2026-12-05/couriers.csv",
            b"courier,due\nsandbox/drv_01,25.40\n".to_vec(),
            "text/csv",
        )
        .await
        .unwrap();

    let viewer = token("vic", &["viewer"]);
    let page = body(
        &w.console
            .handle(get("/console/cash?day=2026-12-05", Some(&viewer)))
            .await,
    );
    assert!(
        page.contains("sandbox/drv_01") && page.contains("25.40"),
        "{page}"
    );
    assert!(page.contains("/console/cash/2026-12-05/couriers.csv"));
    assert!(!page.contains("/handover\""), "a viewer gets no form");
    let csrf = form_encode(&csrf_of(&page));
    let form =
        format!("csrf={csrf}&courier=sandbox%2Fdrv_01&amount=25.40&currency=eur&receipt=R-17");
    let answer = w
        .console
        .handle(post("/console/cash/2026-12-05/handover", &viewer, &form))
        .await;
    assert_eq!(answer.status_code, 403);
    assert!(w.cash.handovers(day).await.unwrap().is_empty());

    let ana = token("ana", &["dispatcher"]);
    let page = body(
        &w.console
            .handle(get("/console/cash?day=2026-12-05", Some(&ana)))
            .await,
    );
    assert!(page.contains("/console/cash/2026-12-05/handover\""));
    let csrf = form_encode(&csrf_of(&page));
    let form =
        format!("csrf={csrf}&courier=sandbox%2Fdrv_01&amount=25.40&currency=eur&receipt=R-17");
    let recorded = w
        .console
        .handle(post("/console/cash/2026-12-05/handover", &ana, &form))
        .await;
    assert_eq!(recorded.status_code, 303);
    assert_eq!(
        location(&recorded),
        "/console/cash?day=2026-12-05&done=recorded"
    );
    // The same slip again: counted once.
    let again = w
        .console
        .handle(post("/console/cash/2026-12-05/handover", &ana, &form))
        .await;
    assert_eq!(
        location(&again),
        "/console/cash?day=2026-12-05&done=already"
    );
    let handovers = w.cash.handovers(day).await.unwrap();
    assert_eq!(handovers.len(), 1);
    assert_eq!(handovers[0].amount, eur(2_540));
    assert_eq!(handovers[0].receipt, "R-17");

    // The same slip with another amount, and amounts that are no amounts: refused in words.
    for (amount, status, words) in [
        ("30.00", 409, "already recorded with"),
        ("25.405", 422, "Amount"),
        ("0.00", 422, "more than zero"),
    ] {
        let form = format!(
            "csrf={csrf}&courier=sandbox%2Fdrv_01&amount={amount}&currency=EUR&receipt=R-17"
        );
        let answer = w
            .console
            .handle(post("/console/cash/2026-12-05/handover", &ana, &form))
            .await;
        assert_eq!(answer.status_code, status, "{amount}");
        let html = body(&answer);
        assert!(html.contains(words), "{amount}: {html}");
        assert!(
            html.contains(&format!("value=\"{amount}\"")),
            "the form keeps what was typed"
        );
    }
    assert_eq!(w.cash.handovers(day).await.unwrap().len(), 1);

    // The report file, as a download.
    let file = w
        .console
        .handle(get("/console/cash/2026-12-05/couriers.csv", Some(&viewer)))
        .await;
    assert_eq!(file.status_code, 200);
    assert!(file
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("attachment;")));
    let missing = w
        .console
        .handle(get("/console/cash/2026-12-05/secrets.txt", Some(&viewer)))
        .await;
    assert_eq!(missing.status_code, 404);
}

#[tokio::test]
async fn the_plans_page_shows_the_newest_plan_and_an_earlier_one_on_request() {
    use domain::dispatch::{DispatchPlan, DriverRoute, GeoPoint, PlannedStop, VehicleType};
    use domain::ports::PlanStore;
    let w = world();
    let at = GeoPoint {
        lat: 52.52,
        lon: 13.40,
    };
    let plan = |id: &str, driver: &str| DispatchPlan {
        id: id.into(),
        day: "2026-12-07".into(),
        time_zone: "Europe/Berlin".into(),
        created_at: "2026-12-06T17:00:00Z".into(),
        requested_by: "schedule".into(),
        routes: vec![DriverRoute {
            driver: driver.into(),
            vehicle: VehicleType::Bicycle,
            start: at,
            end: None,
            // 08:00 and 08:20 in Berlin.
            departs_ms: 1_796_626_800_000,
            done_ms: 1_796_628_000_000,
            distance_m: 4_200,
            stops: vec![PlannedStop {
                shipment: fakes::sample::shipment("acme", "9001").key,
                task_id: "tsk_9001".into(),
                order_name: Some("#9001".into()),
                location: at,
                eta_ms: 1_796_627_400_000,
                leaves_ms: 1_796_627_520_000,
            }],
            pickups: Vec::new(),
        }],
        unplanned: Vec::new(),
        distance_m: 4_200,
        duration_s: 1_200,
        budget_s: 5,
    };
    for (id, driver) in [("p-1", "drv_early"), ("p-2", "drv_late")] {
        let plan = plan(id, driver);
        let seen = w.plans.day("2026-12-07").await.unwrap().latest;
        w.plans.start(&plan, seen.as_deref()).await.unwrap();
        w.plans.finish(&plan).await.unwrap();
    }
    let viewer = token("vic", &["viewer"]);
    let html = body(
        &w.console
            .handle(get("/console/plans?day=2026-12-07", Some(&viewer)))
            .await,
    );
    assert!(
        html.contains("drv_late") && !html.contains("drv_early (bicycle)"),
        "{html}"
    );
    assert!(html.contains("08:00") && html.contains("08:10") && html.contains("#9001"));
    assert!(html.contains("/console/plans?day=2026-12-07&amp;plan=p-1"));
    let earlier = body(
        &w.console
            .handle(get("/console/plans?day=2026-12-07&plan=p-1", Some(&viewer)))
            .await,
    );
    assert!(earlier.contains("drv_early (bicycle)"));
    let unknown = w
        .console
        .handle(get("/console/plans?day=2026-12-07&plan=p-9", Some(&viewer)))
        .await;
    assert_eq!(unknown.status_code, 404);
    let none = body(
        &w.console
            .handle(get("/console/plans?day=2026-12-08", Some(&viewer)))
            .await,
    );
    assert!(none.contains("No plan for 2026-12-08 yet."));
}

//! The dispatcher's console served by the stack, signing in against the emulator's Cognito
//! user pool (its JWKS verifies the ID token): an order filed for review is fixed and
//! released from the console into one courier task; a release from the console and one from
//! the CLI race, and exactly one of them wins; a viewer is refused.

use end_to_end::ports::*;
use end_to_end::{wait_for, Harness};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

/// A browser without JavaScript: keeps the cookies, follows no redirect.
struct Operator {
    client: reqwest::Client,
    base: String,
    cookies: std::sync::Mutex<Vec<(String, String)>>,
}

impl Operator {
    fn new(base: &str) -> Operator {
        Operator {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().unwrap();
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&self, response: &reqwest::Response) {
        let mut cookies = self.cookies.lock().unwrap();
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            assert!(
                attributes.contains("HttpOnly")
                    && attributes.contains("Secure")
                    && attributes.contains("SameSite=Strict"),
                "{text}"
            );
            let (name, value) = pair.split_once('=').unwrap();
            cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("the console answers");
        self.keep(&response);
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", pages::console::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the console answers");
        self.keep(&response);
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            response.status().as_u16(),
            location,
            response.text().await.unwrap(),
        )
    }

    async fn sign_in(&self, user: &str, password: &str) -> (u16, String, String) {
        let (status, form) = self.get("/console/login").await;
        assert_eq!(status, 200);
        let csrf = csrf_of(&form);
        self.post(
            "/console/login",
            &[("username", user), ("password", password), ("csrf", &csrf)],
        )
        .await
    }
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_signs_in_fixes_and_releases_an_item_into_one_task() {
    let h = Harness::start("console", &[]).await;
    let password = h.console_user("ana", "dispatcher").await;
    let (key, id) = h
        .order_for_review(7_770_000_000_000_000_001, "Kim Weber")
        .await;
    let ana = Operator::new(&h.runtime.http_url);

    // A wrong password signs nobody in; the pool's refusal is said in words.
    let (status, _, page) = ana.sign_in("ana", "wrong-Password-1").await;
    assert_eq!(status, 401);
    assert!(page.contains("Incorrect user name or password."));

    let (status, location, _) = ana.sign_in("ana", &password).await;
    assert_eq!(status, 303);
    assert_eq!(location, "/console/inbox");
    let (status, inbox) = ana.get("/console/inbox?reason=invalid_postal_code").await;
    assert_eq!(status, 200, "{inbox}");
    assert!(inbox.contains(&id), "{inbox}");
    assert!(inbox.contains("ana · dispatcher"));

    let item_path = pages::console::item_link(&id);
    let (status, item) = ana.get(&item_path).await;
    assert_eq!(status, 200);
    assert!(
        item.contains("Source payload"),
        "the payload behind it: {item}"
    );
    let csrf = csrf_of(&item);
    let (status, _, _) = ana
        .post(
            &format!("{item_path}/fix"),
            &[("csrf", &csrf), ("fixes", "address.postal_code=10119")],
        )
        .await;
    assert_eq!(status, 303);
    let (status, location, _) = ana
        .post(&format!("{item_path}/release"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, 303);
    assert!(location.ends_with("?done=released"), "{location}");

    let task = h.task_for(&key.to_string()).await;
    assert_eq!(task.destination.postal_code.as_deref(), Some("10119"));
    wait_for("the tasks queue drained", WAIT, || async {
        (h.queue_depth("TasksQueue").await == (0, 0)).then_some(())
    })
    .await;
    assert_eq!(h.sandbox.tasks().len(), 1);
    let closed = h.stores().reviews.get(&id).await.unwrap().unwrap();
    assert_eq!(closed.status, "released");
    assert!(closed.resolution.unwrap().starts_with("released by ana"));
    // The item links to the shipment's timeline: its task and the tracking number.
    let (_, item) = ana.get(&item_path).await;
    let timeline_path = pages::console::shipment_link(&key.to_string());
    assert!(item.contains(&timeline_path), "{item}");
    let (status, timeline) = ana.get(&timeline_path).await;
    assert_eq!(status, 200);
    assert!(timeline.contains(&task.tracking_number), "{timeline}");
    // The customer's tracking message follows the task through the sync queue.
    wait_for("the customer's message on the timeline", WAIT, || async {
        let (_, timeline) = ana.get(&timeline_path).await;
        timeline.contains("<td>tracking_link</td>").then_some(())
    })
    .await;

    // Signed out: the cookie is gone and the inbox asks to sign in.
    let (_, page) = ana.get("/console/inbox").await;
    let (status, location, _) = ana
        .post("/console/logout", &[("csrf", &csrf_of(&page))])
        .await;
    assert_eq!((status, location.as_str()), (303, "/console/login"));
    let (status, _) = ana.get("/console/inbox").await;
    assert_eq!(status, 303);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_release_and_a_cli_release_race_and_one_wins() {
    let h = Harness::start("console-race", &[]).await;
    let password = h.console_user("ben", "dispatcher").await;
    let viewer_password = h.console_user("vic", "viewer").await;
    let (key, id) = h
        .order_for_review(7_770_000_000_000_000_002, "Kim Weber")
        .await;
    let stores = h.stores();
    cli::review::fix(
        stores,
        &id,
        &["address.postal_code=10119".parse().unwrap()],
        "ops",
    )
    .await
    .unwrap();

    // A viewer sees the item, but a release it crafts is refused and changes nothing.
    let vic = Operator::new(&h.runtime.http_url);
    vic.sign_in("vic", &viewer_password).await;
    let item_path = pages::console::item_link(&id);
    let (_, page) = vic.get(&item_path).await;
    assert!(!page.contains("/release\""), "{page}");
    let (status, _, _) = vic
        .post(
            &format!("{item_path}/release"),
            &[("csrf", &csrf_of(&page))],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        h.stores().reviews.get(&id).await.unwrap().unwrap().status,
        "open"
    );

    let ben = Operator::new(&h.runtime.http_url);
    ben.sign_in("ben", &password).await;
    let (_, page) = ben.get(&item_path).await;
    let csrf = csrf_of(&page);
    let release_path = format!("{item_path}/release");
    let form = [("csrf", csrf.as_str())];
    let (console, cli) = tokio::join!(
        ben.post(&release_path, &form),
        cli::review::release(stores, &id, "cli-operator"),
    );
    let console_won = console.0 == 303;
    let cli_won = cli.is_ok();
    assert!(
        console_won != cli_won,
        "exactly one release wins: {console:?} {cli:?}"
    );
    if cli_won {
        assert_eq!(console.0, 409, "the console's loser is told: {}", console.2);
    } else {
        assert!(
            matches!(
                cli,
                Err(cli::CliError::ClosedMeanwhile { .. } | cli::CliError::NotOpen { .. })
            ),
            "{cli:?}"
        );
    }
    let item = h.stores().reviews.get(&id).await.unwrap().unwrap();
    assert_eq!(item.status, "released");
    let winner = if console_won {
        "released by ben"
    } else {
        "released by cli-operator"
    };
    assert!(item.resolution.unwrap().starts_with(winner));
    let task = h.task_for(&key.to_string()).await;
    assert_eq!(task.destination.postal_code.as_deref(), Some("10119"));
    wait_for("the tasks queue drained", WAIT, || async {
        (h.queue_depth("TasksQueue").await == (0, 0)).then_some(())
    })
    .await;
    assert_eq!(h.sandbox.tasks().len(), 1, "exactly one task");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_edits_a_stores_rules_and_a_dispatcher_redrives_a_dead_letter_safely() {
    use domain::messages::{TaskAction, TaskRequested};
    let h = Harness::start("console-ops", &[]).await;
    let admin_password = h.console_user("ada", "admin").await;
    let dispatcher_password = h.console_user("ben", "dispatcher").await;

    // The admin saves a store's rules; what is stored is what the form held.
    let ada = Operator::new(&h.runtime.http_url);
    ada.sign_in("ada", &admin_password).await;
    let path = pages::console::store_link("shopify", end_to_end::STORE);
    let (status, page) = ada.get(&path).await;
    assert_eq!(status, 200);
    let rules = r#"{"time_zone": "Europe/Berlin", "notifications": {"sender_name": "Test Shop"}}"#;
    let (status, location, _) = ada
        .post(&path, &[("csrf", &csrf_of(&page)), ("config", rules)])
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{path}?done=saved").as_str())
    );
    let stored = h
        .stores()
        .stores
        .read(domain::Channel::Shopify, end_to_end::STORE)
        .await
        .unwrap()
        .expect("the rules stored");
    assert_eq!(
        stored.notifications.sender_name.as_deref(),
        Some("Test Shop")
    );

    // An order makes its task; a stale repeat of its task request sits in the DLQ.
    let id = 7_770_000_000_000_000_003_u64;
    let (status, _, _) = h
        .deliver(
            "orders/paid",
            "w-ops-1",
            end_to_end::paid_order(id).to_string().as_bytes(),
        )
        .await;
    assert_eq!(status, 200);
    let key = domain::ShipmentKey::new(
        domain::Channel::Shopify,
        end_to_end::STORE,
        &id.to_string(),
        "1",
    );
    h.task_for(&key.to_string()).await;
    let sqs = aws_sdk_sqs::Client::new(&h.sdk);
    sqs.send_message()
        .queue_url(h.runtime.queue_url("TasksDLQ").unwrap())
        .message_body(
            serde_json::to_string(&TaskRequested::new(key.clone(), TaskAction::Create)).unwrap(),
        )
        .send()
        .await
        .expect("a dead letter");

    let ben = Operator::new(&h.runtime.http_url);
    ben.sign_in("ben", &dispatcher_password).await;
    let (_, index) = ben.get("/console/dlq").await;
    assert!(
        index.contains(r#"<a href="/console/dlq/TasksQueue">TasksQueue</a></td><td>1</td>"#),
        "{index}"
    );
    let (_, queue) = ben.get("/console/dlq/TasksQueue").await;
    assert!(queue.contains(&key.to_string()), "{queue}");
    let csrf = csrf_of(&queue);
    let (status, _, _) = ben
        .post("/console/dlq/TasksQueue/redrive", &[("csrf", &csrf)])
        .await;
    assert_eq!(status, 422, "not without the confirmation");
    let (status, location, _) = ben
        .post(
            "/console/dlq/TasksQueue/redrive",
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/console/dlq/TasksQueue?redriven=1")
    );
    wait_for("the redriven request handled", WAIT, || async {
        (h.queue_depth("TasksDLQ").await == (0, 0) && h.queue_depth("TasksQueue").await == (0, 0))
            .then_some(())
    })
    .await;
    assert_eq!(h.sandbox.tasks().len(), 1, "the repeat created nothing");
    h.stop().await;
}

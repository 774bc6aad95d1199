//! The dispatcher's console in a browser: sign in against the emulator's user pool; an
//! inbox item fixed and released from its page into one courier task; a viewer sees no
//! button to act, and a release it crafts in the page is refused with 403; a name a store
//! typed with a script in it shown as text; a shipment found by its tracking number, a
//! cash hand-over recorded, a day's plan read; no serious accessibility problem on any page.

use crate::support::Browser;
use domain::ports::ReviewInbox;

use end_to_end::Harness;

/// A recipient's name as a store may send it, with a script in it.
const HOSTILE: &str = "Kim <script>document.title='pwned'</script>Weber";

async fn sign_in(browser: &Browser, h: &Harness, user: &str, password: &str) {
    browser
        .client
        .goto(&format!("{}/console/login", h.runtime.http_url))
        .await
        .expect("the sign-in page opens");
    browser.fill("#username", user).await;
    browser.fill("#password", password).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("h1", "Review inbox").await;
}

fn no_problems(problems: Vec<serde_json::Value>) {
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_fixes_and_releases_an_item_and_a_viewer_cannot() {
    let h = Harness::start("browser-console", &[]).await;
    let dispatcher = h.console_user("ana", "dispatcher").await;
    let viewer = h.console_user("vic", "viewer").await;
    let (key, id) = h.order_for_review(7_780_000_000_000_000_001, HOSTILE).await;
    let browser = Browser::start().await;

    browser
        .client
        .goto(&format!("{}/console/inbox", h.runtime.http_url))
        .await
        .expect("the console opens");
    // No session: the sign-in page.
    assert_eq!(browser.text("h1").await, "Sign in");
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-sign-in").await;

    // A wrong password is refused in words.
    browser.fill("#username", "ana").await;
    browser.fill("#password", "not-the-Password-1").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("p.problem", "Incorrect user name or password.")
        .await;

    sign_in(&browser, &h, "ana", &dispatcher).await;
    // The session cookie is out of the page's reach.
    assert_eq!(browser.eval("return document.cookie").await, "");
    assert!(browser
        .text("header form span")
        .await
        .contains("ana · dispatcher"));
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-inbox").await;

    browser
        .client
        .goto(&format!(
            "{}{}",
            h.runtime.http_url,
            pages::console::item_link(&id)
        ))
        .await
        .expect("the item opens");
    assert_eq!(browser.text("h1").await, id);
    // The name with a script is text; nothing ran.
    assert!(browser
        .text("pre")
        .await
        .contains("<script>document.title='pwned'</script>"));
    assert_ne!(browser.eval("return document.title").await, "pwned");
    assert_eq!(browser.eval("return document.scripts.length").await, 0);
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-review-item").await;

    browser.fill("#fixes", "address.postal_code=10119").await;
    browser.click("form[action$='/fix'] button").await;
    browser.wait_for_text("p.notice", "Fixes applied.").await;
    assert!(browser
        .text("main")
        .await
        .contains("None: ready to release."));
    browser.click("form[action$='/release'] button").await;
    browser
        .wait_for_text(
            "p.notice",
            "Released: the shipment is on its way to the courier.",
        )
        .await;
    assert_eq!(browser.text("dd.status").await, "released");
    let task = h.task_for(&key.to_string()).await;
    assert_eq!(task.destination.postal_code.as_deref(), Some("10119"));
    assert_eq!(h.sandbox.tasks().len(), 1);
    // The shipment's timeline, from the item.
    browser.click("dd a[href^='/console/shipments/']").await;
    browser
        .wait_for_text("h1", &format!("Shipment {key}"))
        .await;
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-shipment").await;

    // The other pages a dispatcher reads: the dead-letter queues and a store's rules.
    browser.click("nav a[href='/console/dlq']").await;
    browser.wait_for_text("h1", "Dead-letter queues").await;
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-dead-letters").await;
    browser.click("nav a[href='/console/stores']").await;
    browser.wait_for_text("h1", "Stores").await;
    browser.fill("#store", "test-store").await;
    browser.click("main button[type=submit]").await;
    browser
        .wait_for_text("h1", "Store shopify:test-store")
        .await;
    assert!(browser
        .text("main")
        .await
        .contains("Only an admin may change a store's rules."));
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-store-rules").await;

    // The shipment list finds the released shipment by its tracking number.
    let tracking = h
        .shipment(&key)
        .await
        .task
        .expect("the released shipment has its task")
        .tracking_number;
    browser.click("nav a[href='/console/shipments']").await;
    browser.wait_for_text("h1", "Shipments").await;
    browser.fill("#number", &tracking).await;
    browser.click("form.search button[type=submit]").await;
    browser
        .wait_for_text("caption", &format!("Tracking number {tracking}"))
        .await;
    assert!(browser.text("tbody").await.contains(&key.to_string()));
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-shipments").await;

    // Cash on delivery: a hand-over recorded from the form, once.
    // (A date field takes typing in the browser's locale's order: the day goes in the URL.)
    browser
        .client
        .goto(&format!(
            "{}/console/cash?day=2026-12-05",
            h.runtime.http_url
        ))
        .await
        .expect("the day's cash opens");
    browser
        .wait_for_text("h1", "Cash on delivery · 2026-12-05")
        .await;
    browser.fill("#courier", "sandbox/drv_01").await;
    browser.fill("#amount", "125.40").await;
    browser.fill("#currency", "EUR").await;
    browser.fill("#receipt", "SLIP-0042").await;
    browser.click("form[action$='/handover'] button").await;
    browser
        .wait_for_text("p.notice", "Hand-over recorded.")
        .await;
    assert!(browser.text("main").await.contains("SLIP-0042"));
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-cash").await;
    let day = domain::cod::parse_day("2026-12-05").unwrap();
    let handovers = domain::ports::CashBook::handovers(&h.stores().cash, day)
        .await
        .unwrap();
    assert_eq!(handovers.len(), 1);
    assert_eq!(handovers[0].amount.to_string(), "125.40 EUR");

    // The day's dispatch plan: the driver's route in order.
    let plans = h.stores().dispatch.as_ref().expect("a dispatch table");
    let plan = one_stop_plan(&key);
    domain::ports::PlanStore::start(plans, &plan, None)
        .await
        .unwrap();
    domain::ports::PlanStore::finish(plans, &plan)
        .await
        .unwrap();
    browser
        .client
        .goto(&format!(
            "{}/console/plans?day=2026-12-07",
            h.runtime.http_url
        ))
        .await
        .expect("the plans open");
    browser
        .wait_for_text("h1", "Dispatch plan · 2026-12-07")
        .await;
    assert!(browser.text("caption").await.contains("drv_01 (bicycle)"));
    assert!(browser.text("tbody").await.contains(&key.to_string()));
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-plan").await;

    browser.click("form.signout button").await;
    browser.wait_for_text("h1", "Sign in").await;

    // A viewer: the second item has no buttons, and a release crafted in the page is 403.
    let (_, other) = h.order_for_review(7_780_000_000_000_000_002, HOSTILE).await;
    sign_in(&browser, &h, "vic", &viewer).await;
    browser
        .client
        .goto(&format!(
            "{}{}",
            h.runtime.http_url,
            pages::console::item_link(&other)
        ))
        .await
        .expect("the item opens");
    assert_eq!(
        browser
            .eval("return document.querySelectorAll(\"form[action$='/release'], form[action$='/dismiss'], form[action$='/fix']\").length")
            .await,
        0
    );
    let crafted = format!(
        "const form = document.createElement('form');
         form.method = 'post';
         form.action = '{}/release';
         const csrf = document.createElement('input');
         csrf.type = 'hidden'; csrf.name = 'csrf';
         csrf.value = document.querySelector(\"input[name='csrf']\").value;
         form.appendChild(csrf);
         document.body.appendChild(form);
         form.submit();
         return true;",
        pages::console::item_link(&other)
    );
    browser.eval(&crafted).await;
    browser.wait_for_text("h1", "Not allowed").await;
    assert!(browser
        .text("main")
        .await
        .contains("Your role (viewer) may not do this."));
    no_problems(browser.accessibility_problems().await);
    browser.photograph("console-not-allowed").await;
    let item = h.stores().reviews.get(&other).await.unwrap().unwrap();
    assert_eq!(item.status, "open");
    assert_eq!(h.sandbox.tasks().len(), 1);

    browser.stop().await;
    h.stop().await;
}

/// A plan for 2026-12-07 that sends drv_01 to `key` at 09:10 Berlin time.
fn one_stop_plan(key: &domain::ShipmentKey) -> domain::dispatch::DispatchPlan {
    use domain::dispatch::{DispatchPlan, DriverRoute, GeoPoint, PlannedStop, VehicleType};
    let depot = GeoPoint {
        lat: 52.52,
        lon: 13.40,
    };
    DispatchPlan {
        id: "2026-12-06T17:00:00Z#browser".into(),
        day: "2026-12-07".into(),
        time_zone: "Europe/Berlin".into(),
        created_at: "2026-12-06T17:00:00Z".into(),
        requested_by: "browser-test".into(),
        routes: vec![DriverRoute {
            driver: "drv_01".into(),
            vehicle: VehicleType::Bicycle,
            start: depot,
            end: None,
            departs_ms: 1_796_630_400_000,
            done_ms: 1_796_632_200_000,
            distance_m: 3_100,
            stops: vec![PlannedStop {
                shipment: key.clone(),
                task_id: "tsk_browser".into(),
                order_name: Some("#1001".into()),
                location: GeoPoint {
                    lat: 52.53,
                    lon: 13.41,
                },
                eta_ms: 1_796_631_000_000,
                leaves_ms: 1_796_631_120_000,
            }],
            pickups: Vec::new(),
        }],
        unplanned: Vec::new(),
        distance_m: 3_100,
        duration_s: 1_800,
        budget_s: 5,
    }
}

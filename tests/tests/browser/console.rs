//! The dispatcher's console in a browser: sign in against the emulator's user pool; an
//! inbox item fixed and released from its page into one courier task; a viewer sees no
//! button to act, and a release it crafts in the page is refused with 403; a name a store
//! typed with a script in it shown as text; no serious accessibility problem on any page.

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

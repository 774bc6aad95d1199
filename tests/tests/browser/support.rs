//! A headless Chromium for one test: its own chromedriver on a free port, a fresh profile,
//! and the checks every page gets.

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// axe-core, pinned by tests/browser/package.json.
const AXE: &str = "tests/browser/node_modules/axe-core/axe.min.js";

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium the size of a phone (the pages are
    /// mobile first).
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs: infra/scripts/setup-browser.sh installs it");
        let url = format!("http://127.0.0.1:{port}");
        end_to_end::wait_for("chromedriver ready", Duration::from_secs(20), || async {
            reqwest::get(format!("{url}/status"))
                .await
                .ok()
                .filter(|r| r.status().is_success())
        })
        .await;
        let profile = std::env::temp_dir().join(format!(
            "courier-bridge-chromium-{:016x}",
            rand::random::<u64>()
        ));
        let mut capabilities = Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run",
                    format!("--user-data-dir={}", profile.display()),
                    "--window-size=390,844",
                ],
            }),
        );
        let http = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(http)
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            driver,
            profile,
        }
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .text()
            .await
            .expect("its text")
    }

    /// The first `css`'s text once it is `expected` (after a form's post, the next page).
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        end_to_end::wait_for(
            &format!("{css} to read {expected:?}"),
            Duration::from_secs(20),
            || async {
                let element = self.client.find(fantoccini::Locator::Css(css)).await.ok()?;
                let text = element.text().await.ok()?;
                (text == expected).then_some(())
            },
        )
        .await
    }

    /// The value of the form field `css`.
    pub async fn value(&self, css: &str) -> String {
        self.field(css)
            .await
            .prop("value")
            .await
            .expect("its value")
            .unwrap_or_default()
    }

    /// Types `text` into the form field `css` in place of what it holds.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.field(css).await;
        field.clear().await.expect("the field clears");
        if !text.is_empty() {
            field
                .send_keys(text)
                .await
                .expect("the field takes the text");
        }
    }

    /// Clicks the first `css`.
    pub async fn click(&self, css: &str) {
        self.field(css).await.click().await.expect("it clicks");
    }

    async fn field(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// axe-core's serious and critical violations on the page as it is now.
    pub async fn accessibility_problems(&self) -> Vec<Value> {
        let axe = std::fs::read_to_string(workspace().join(AXE))
            .expect("axe-core: infra/scripts/setup-browser.sh installs it");
        self.client
            .execute(&format!("{axe}\nreturn true;"), Vec::new())
            .await
            .expect("axe-core loads in the page");
        let violations = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document).then(r => done(r.violations.map(v =>
                   ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))));",
                Vec::new(),
            )
            .await
            .expect("axe-core runs");
        violations
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect()
    }

    /// Saves the page as `name`.png in the screenshots directory.
    pub async fn photograph(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = std::env::var_os("SCREENSHOTS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target/browser/screenshots"));
        std::fs::create_dir_all(&dir).expect("the screenshots directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot saved");
    }

    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

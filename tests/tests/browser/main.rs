//! The pages in a real browser: Debian's Chromium, headless, driven through its
//! chromedriver over WebDriver, against the stack the local runtime runs on the emulator.
//! Each page is checked as a person meets it (what it shows, what a hostile text becomes),
//! by axe-core for accessibility, and photographed (target/browser/screenshots, or
//! `SCREENSHOTS_DIR`). `infra/scripts/setup-browser.sh` installs what they need; `make test`
//! runs it first.

mod console;
mod fix_address;
mod reschedule;
mod support;
mod tracking;

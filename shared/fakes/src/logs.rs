//! What a handler logged, as JSON lines with their spans, for tests of what each log line
//! carries (a log line of one record must name that record, not the one beside it).

use std::cell::RefCell;
use std::sync::OnceLock;

thread_local! {
    /// This thread's log lines, as the test subscriber writes them.
    static LINES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Writes into the current thread's [`LINES`].
struct ThreadLines;

impl std::io::Write for ThreadLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LINES.with(|lines| lines.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs one subscriber for the whole test binary (every test that looks at logs calls
/// this before it runs a handler): JSON lines with every enclosing span, kept per thread.
/// A subscriber scoped to one test would race the other tests' threads to register the
/// callsites, and could find them registered as uninteresting.
pub fn capture() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(|| ThreadLines)
            .finish();
        // Another subscriber already installed would leave this binary's lines uncaptured;
        // the tests that read them would then fail, and say so.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
    LINES.with(|lines| lines.borrow_mut().clear());
}

/// The lines this thread logged since [`capture`], parsed.
pub fn lines() -> Vec<serde_json::Value> {
    LINES.with(|lines| {
        String::from_utf8_lossy(&lines.borrow())
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    })
}

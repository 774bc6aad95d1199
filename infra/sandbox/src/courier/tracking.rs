//! `GET /track/{tracking_number}`: the public tracking page the customer is sent to.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use time::format_description::well_known::Rfc3339;

use super::model::Task;
use crate::state::AppState;

pub(super) async fn page(
    State(app): State<AppState>,
    Path(tracking_number): Path<String>,
) -> (StatusCode, Html<String>) {
    match app.with(|store| store.tasks.by_tracking_number(&tracking_number).cloned()) {
        Some(task) => (StatusCode::OK, Html(render(&task))),
        None => (
            StatusCode::NOT_FOUND,
            Html(document(
                "Unknown parcel",
                &format!(
                    "<p>No parcel with tracking number {}.</p>",
                    escape(&tracking_number)
                ),
            )),
        ),
    }
}

fn render(task: &Task) -> String {
    let history: String = task
        .status_history
        .iter()
        .map(|change| {
            // Formatting only fails for years outside 0..=9999, which `now_utc` never yields.
            let at = change.at.format(&Rfc3339).unwrap_or_default();
            format!("<li><time>{at}</time> {}</li>\n", change.status.label())
        })
        .collect();
    let number = escape(&task.tracking_number);
    let body = format!(
        "<h1>Parcel {number}</h1>\n<p>Status: <strong id=\"status\" data-status=\"{code}\">{label}</strong></p>\n<ol>\n{history}</ol>",
        code = task.status.as_str(),
        label = task.status.label(),
    );
    document(&format!("Parcel {number}"), &body)
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title} · Sandbox Courier</title></head>\n<body>\n{body}\n</body>\n</html>\n"
    )
}

/// The tracking number comes from the URL, so it must not be able to inject markup.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("SBX0123456789"), "SBX0123456789");
    }
}

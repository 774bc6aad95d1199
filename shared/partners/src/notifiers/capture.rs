//! A local sink for the demo and tests: every message is appended as one JSON line to
//! `{dir}/messages.jsonl` instead of reaching a customer.
//!
//! Each line is written with one `write` on a file opened in append mode, so lines from
//! concurrent senders (threads or processes) do not interleave on a local file system.

use domain::notify::{OutgoingMessage, Sent};
use domain::ports::Notifier;
use domain::PartnerError;

pub(crate) const PARTNER: &str = "capture";
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;

/// The file the messages go to, inside the capture directory.
pub const FILE_NAME: &str = "messages.jsonl";

/// One captured message: the message as sent, plus what a provider would have answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedMessage {
    #[serde(flatten)]
    pub message: OutgoingMessage,
    /// "capture-<hex>", unique per send.
    pub provider_id: String,
    /// RFC 3339, UTC.
    pub captured_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} line {line} is not a captured message: {source}")]
    Malformed {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone)]
pub struct CaptureNotifier {
    dir: PathBuf,
}

impl CaptureNotifier {
    /// The directory is created on the first send.
    pub fn new(dir: PathBuf) -> Self {
        CaptureNotifier { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every message captured in `dir`, oldest first; none when nothing was captured yet.
    pub fn read_all(dir: &Path) -> Result<Vec<CapturedMessage>, CaptureReadError> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(CaptureReadError::Io { path, source }),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|source| CaptureReadError::Malformed {
                    path: path.clone(),
                    line: i + 1,
                    source,
                })
            })
            .collect()
    }
}

#[async_trait]
impl Notifier for CaptureNotifier {
    fn name(&self) -> &'static str {
        "capture"
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Sent, PartnerError> {
        let captured = CapturedMessage {
            message: message.clone(),
            provider_id: format!("capture-{:032x}", rand::random::<u128>()),
            captured_at: time::OffsetDateTime::now_utc()
                .format(&Rfc3339)
                // Formatting fails only for years outside 0..=9999, which now_utc never yields.
                .unwrap_or_default(),
        };
        let mut line = serde_json::to_vec(&captured).map_err(|e| {
            PartnerError::unavailable(PARTNER, format!("capture: cannot encode: {e}"))
        })?;
        line.push(b'\n');
        let dir = self.dir.clone();
        // File I/O blocks: keep it off the async workers.
        tokio::task::spawn_blocking(move || append(&dir, &line))
            .await
            .map_err(|e| {
                PartnerError::unavailable(PARTNER, format!("capture: writer task failed: {e}"))
            })?
            .map_err(|e| PartnerError::unavailable(PARTNER, format!("capture: {e}")))?;
        tracing::info!(
            message_id = %message.id,
            channel = message.channel.as_str(),
            provider_id = %captured.provider_id,
            "message captured"
        );
        Ok(Sent {
            provider: "capture".into(),
            provider_id: captured.provider_id,
        })
    }
}

fn append(dir: &Path, line: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(FILE_NAME))?;
    // One buffer, one write: with O_APPEND the line lands whole at the end.
    file.write_all(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::notify::NotifyChannel;

    fn temp_dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "courier-bridge-capture-{name}-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ))
    }

    fn message(id: &str, channel: NotifyChannel) -> OutgoingMessage {
        OutgoingMessage {
            id: id.into(),
            channel,
            to: "+14155550100".into(),
            subject: None,
            body: "Hi Ana, your order #1001 was delivered.".into(),
        }
    }

    #[tokio::test]
    async fn messages_are_appended_one_json_line_each_and_read_back_in_order() {
        // GIVEN a capture directory that does not exist yet
        let dir = temp_dir("append");
        let notifier = CaptureNotifier::new(dir.join("nested"));
        // WHEN two messages are sent
        let first = notifier
            .send(&message("s#1#tracking_link", NotifyChannel::Sms))
            .await
            .unwrap();
        let mut email = message("s#1#delivered", NotifyChannel::Email);
        email.to = "ana@example.com".into();
        email.subject = Some("Delivered".into());
        let second = notifier.send(&email).await.unwrap();
        // THEN both are in the file, one line each, with their provider ids
        assert_eq!(first.provider, "capture");
        assert_ne!(first.provider_id, second.provider_id);
        let raw = std::fs::read_to_string(dir.join("nested").join(FILE_NAME)).unwrap();
        assert_eq!(raw.lines().count(), 2);
        let all = CaptureNotifier::read_all(&dir.join("nested")).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].message,
            message("s#1#tracking_link", NotifyChannel::Sms)
        );
        assert_eq!(all[0].provider_id, first.provider_id);
        assert_eq!(all[1].message, email);
        assert!(time::OffsetDateTime::parse(&all[1].captured_at, &Rfc3339).is_ok());
        let line: serde_json::Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
        assert_eq!(line["channel"], "sms");
        assert_eq!(line["id"], "s#1#tracking_link");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn concurrent_sends_never_interleave_lines() {
        let dir = temp_dir("concurrent");
        let notifier = std::sync::Arc::new(CaptureNotifier::new(dir.clone()));
        let sends = (0..32).map(|i| {
            let n = notifier.clone();
            tokio::spawn(async move {
                let mut m = message(&format!("s#{i}#delivered"), NotifyChannel::WhatsApp);
                m.body = "x".repeat(2000);
                n.send(&m).await.unwrap()
            })
        });
        for s in futures::future::join_all(sends).await {
            s.unwrap();
        }
        assert_eq!(CaptureNotifier::read_all(&dir).unwrap().len(), 32);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reading_a_directory_without_captures_gives_none() {
        assert!(CaptureNotifier::read_all(&temp_dir("empty"))
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn an_unwritable_directory_is_unavailable() {
        // A file where the directory should be.
        let blocker = temp_dir("blocker");
        std::fs::write(&blocker, b"not a directory").unwrap();
        let err = CaptureNotifier::new(blocker.clone())
            .send(&message("s#1#delivered", NotifyChannel::Sms))
            .await
            .unwrap_err();
        assert!(matches!(err, PartnerError::Unavailable { .. }), "{err:?}");
        std::fs::remove_file(&blocker).unwrap();
    }

    #[test]
    fn a_malformed_line_is_reported_with_its_number() {
        let dir = temp_dir("malformed");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), "{}\n").unwrap();
        let err = CaptureNotifier::read_all(&dir).unwrap_err();
        assert!(
            matches!(err, CaptureReadError::Malformed { line: 1, .. }),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

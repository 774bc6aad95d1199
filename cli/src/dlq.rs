//! `courier-bridge dlq`: what failed for good, and sending it back once the cause is fixed.
//! The work is [`aws::dlq`], shared with `courier-bridge-local dlq`.

use crate::error::CliError;
use crate::render::Table;
use crate::stack::Stack;
use aws::dlq::{self, DeadLetter};
use serde::Serialize;

/// The queues that have a dead-letter queue, by their template.yaml logical ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceQueue {
    #[value(name = "IntakeQueue", alias = "intake")]
    IntakeQueue,
    #[value(name = "TasksQueue", alias = "tasks")]
    TasksQueue,
    #[value(name = "SyncQueue", alias = "sync")]
    SyncQueue,
    #[value(name = "AmazonNotificationsQueue", alias = "amazon-notifications")]
    AmazonNotificationsQueue,
    #[value(name = "OutboxQueue", alias = "outbox")]
    OutboxQueue,
}

impl SourceQueue {
    pub fn logical_id(self) -> &'static str {
        match self {
            SourceQueue::IntakeQueue => "IntakeQueue",
            SourceQueue::TasksQueue => "TasksQueue",
            SourceQueue::SyncQueue => "SyncQueue",
            SourceQueue::AmazonNotificationsQueue => "AmazonNotificationsQueue",
            SourceQueue::OutboxQueue => "OutboxQueue",
        }
    }

    fn dead_letter_logical_id(self) -> Result<String, CliError> {
        dlq::dead_letter_queue_of(self.logical_id()).ok_or_else(|| {
            CliError::Usage(format!("{} has no dead-letter queue", self.logical_id()))
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub dlq_url: String,
    pub messages: Vec<DeadLetter>,
}

/// Up to `max` dead letters, left in the DLQ (visible again at once).
pub async fn list(stack: &Stack, queue: SourceQueue, max: usize) -> Result<Listed, CliError> {
    let dlq_url = stack.queue_url(&queue.dead_letter_logical_id()?).await?;
    let messages = dlq::list(stack.sqs(), &dlq_url, max).await?;
    Ok(Listed { dlq_url, messages })
}

pub fn render_list(listed: &Listed) -> String {
    let mut out = format!("{} message(s) in {}", listed.messages.len(), listed.dlq_url);
    if !listed.messages.is_empty() {
        let mut table = Table::new(["MESSAGE ID", "RECEIVED", "BODY"]);
        for m in &listed.messages {
            table.row([
                m.message_id.clone(),
                format!("{}x", m.receive_count),
                m.body.clone(),
            ]);
        }
        out.push('\n');
        out.push_str(&table.render());
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct Redriven {
    pub moved: usize,
    pub from: String,
    pub to: String,
}

/// Moves every dead letter back to its source queue.
pub async fn redrive(stack: &Stack, queue: SourceQueue) -> Result<Redriven, CliError> {
    let dead_letters = queue.dead_letter_logical_id()?;
    let (from, to) = tokio::try_join!(
        stack.queue_url(&dead_letters),
        stack.queue_url(queue.logical_id()),
    )?;
    let moved = dlq::redrive(stack.sqs(), &from, &to).await?;
    Ok(Redriven { moved, from, to })
}

pub fn render_redriven(r: &Redriven) -> String {
    format!(
        "moved {} message(s) from {} back to {}",
        r.moved, r.from, r.to
    )
}

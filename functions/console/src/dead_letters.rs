//! The dead-letter queues: how many messages wait in each, what they are, and sending them
//! back to their queue once the cause is fixed — with a confirmation, as a redrive repeats
//! every message's work (the functions are idempotent: a message redriven twice does its
//! work once). The work is `aws::dlq`'s, shared with `courier-bridge dlq`.

use crate::auth::Role;
use crate::{page, unavailable, App};
use async_trait::async_trait;
use aws::dlq::{DeadLetter, DlqError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::collections::BTreeMap;

/// How many a page shows of one DLQ.
const LISTED: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("no dead-letter queue for {0}")]
    UnknownQueue(String),
    /// SQS failed: transient, the page asks to come back.
    #[error(transparent)]
    Sqs(#[from] DlqError),
}

/// The stack's dead-letter queues, by their source queue's logical id ("TasksQueue").
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Each source queue and the messages waiting in its DLQ (approximate, as SQS counts).
    async fn depths(&self) -> Result<Vec<(String, u64)>, DeadLetterError>;
    /// Up to `max` of `queue`'s dead letters, left where they are.
    async fn list(&self, queue: &str, max: usize) -> Result<Vec<DeadLetter>, DeadLetterError>;
    /// Moves every message of `queue`'s DLQ back to `queue`; how many.
    async fn redrive(&self, queue: &str) -> Result<usize, DeadLetterError>;
}

/// The queues on SQS: each source queue's URL and its DLQ's.
pub struct SqsDeadLetters {
    pub sqs: aws_sdk_sqs::Client,
    /// Source logical id → (source URL, DLQ URL).
    pub queues: BTreeMap<String, (String, String)>,
}

impl SqsDeadLetters {
    /// Pairs each source queue with its DLQ by template.yaml's naming (`TasksQueue` →
    /// `TasksDLQ`); a queue without one is left out.
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        sources: &[(String, String)],
        dead_letters: &[(String, String)],
    ) -> SqsDeadLetters {
        let queues = sources
            .iter()
            .filter_map(|(source, source_url)| {
                let dlq = aws::dlq::dead_letter_queue_of(source)?;
                let (_, dlq_url) = dead_letters.iter().find(|(name, _)| *name == dlq)?;
                Some((source.clone(), (source_url.clone(), dlq_url.clone())))
            })
            .collect();
        SqsDeadLetters { sqs, queues }
    }

    fn urls(&self, queue: &str) -> Result<&(String, String), DeadLetterError> {
        self.queues
            .get(queue)
            .ok_or_else(|| DeadLetterError::UnknownQueue(queue.to_owned()))
    }
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn depths(&self) -> Result<Vec<(String, u64)>, DeadLetterError> {
        let mut depths = Vec::new();
        for (source, (_, dlq_url)) in &self.queues {
            let depth = aws::sqs::SqsQueue::new(self.sqs.clone(), dlq_url)
                .approximate_depth()
                .await
                .map_err(|e| DlqError {
                    operation: "GetQueueAttributes",
                    queue: dlq_url.clone(),
                    message: e.to_string(),
                })?;
            depths.push((source.clone(), depth));
        }
        Ok(depths)
    }

    async fn list(&self, queue: &str, max: usize) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let (_, dlq_url) = self.urls(queue)?;
        Ok(aws::dlq::list(&self.sqs, dlq_url, max).await?)
    }

    async fn redrive(&self, queue: &str) -> Result<usize, DeadLetterError> {
        let (source_url, dlq_url) = self.urls(queue)?;
        Ok(aws::dlq::redrive(&self.sqs, dlq_url, source_url).await?)
    }
}

pub(crate) async fn index(State(app): State<App>, headers: HeaderMap) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    match app.dead_letters.depths().await {
        Ok(depths) => page(
            StatusCode::OK,
            pages::console::dead_letter_queues(&signed.operator(), &depths),
        ),
        Err(error) => {
            tracing::error!(%error, "DLQ depths unreadable");
            unavailable()
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct ShowQuery {
    redriven: Option<usize>,
}

pub(crate) async fn show(
    State(app): State<App>,
    headers: HeaderMap,
    Path(queue): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    queue_page(&app, &signed, &queue, query.redriven, None, StatusCode::OK).await
}

async fn queue_page(
    app: &App,
    signed: &crate::Signed,
    queue: &str,
    redriven: Option<usize>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let messages = match app.dead_letters.list(queue, LISTED).await {
        Ok(messages) => messages,
        Err(DeadLetterError::UnknownQueue(_)) => return crate::not_found().await,
        Err(error) => {
            tracing::error!(%error, "DLQ unreadable");
            return unavailable();
        }
    };
    let notice = redriven.map(|n| format!("{n} message(s) sent back to {queue}."));
    page(
        status,
        pages::console::dead_letter_queue(&pages::console::DeadLetterView {
            operator: &signed.operator(),
            queue,
            messages: &messages
                .iter()
                .map(|m| (m.message_id.as_str(), m.receive_count, m.body.as_str()))
                .collect::<Vec<_>>(),
            can_redrive: signed.session.role >= Role::Dispatcher,
            notice: notice.as_deref(),
            problem,
        }),
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct RedriveForm {
    csrf: String,
    /// The confirmation box: a redrive repeats every message's work.
    confirm: Option<String>,
}

pub(crate) async fn redrive(
    State(app): State<App>,
    headers: HeaderMap,
    Path(queue): Path<String>,
    Form(form): Form<RedriveForm>,
) -> Response {
    let signed = match app.acting(&headers, Role::Dispatcher, &form.csrf).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    if form.confirm.as_deref() != Some("yes") {
        let problem = "Tick the box to confirm that the cause is fixed.";
        return queue_page(
            &app,
            &signed,
            &queue,
            None,
            Some(problem),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match app.dead_letters.redrive(&queue).await {
        Ok(moved) => {
            tracing::info!(user = %signed.session.user, queue, moved, "DLQ redriven");
            Redirect::to(&format!(
                "/console/dlq/{}?redriven={moved}",
                pages::console::encode(&queue)
            ))
            .into_response()
        }
        Err(DeadLetterError::UnknownQueue(_)) => crate::not_found().await,
        Err(error) => {
            // Some messages may have moved: each is on its queue before it leaves the DLQ.
            tracing::error!(%error, queue, "redrive failed part way");
            unavailable()
        }
    }
}

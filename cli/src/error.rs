//! What can go wrong, sorted by whose move it is: the operator's invocation (usage, exit 2),
//! the item's state (refused, exit 1), or AWS (exit 3). Scripts branch on the exit code, so
//! a refusal is never reported as an AWS failure or the other way round.

use aws::dlq::DlqError;
use domain::draft::FixError;
use domain::pipeline::Admitted;
use domain::ReviewReason;
use domain::StorageError;
use std::fmt::Write;

/// Exit codes of `courier-bridge`.
pub mod exit {
    pub const OK: u8 = 0;
    /// The operation was refused: the item is not open, its draft is invalid, ...
    pub const REFUSED: u8 = 1;
    /// The invocation is wrong: an unknown flag, a malformed `--set`, an invalid file.
    pub const USAGE: u8 = 2;
    /// AWS (or the emulator) failed or the stack's resources could not be found.
    pub const AWS: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    /// Operator input that does not parse (a `--file`, a `--set` value).
    #[error("{what}: {error}")]
    Input { what: String, error: String },
    #[error("cannot apply the fix: {0}")]
    Fix(#[from] FixError),

    #[error("no review item {0}")]
    NotFound(String),
    #[error("{id} is {status}, not open{}", resolution.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    NotOpen {
        id: String,
        status: String,
        resolution: Option<String>,
    },
    /// Items about a payload that could not be read, or a dispatcher's decision (cancelled
    /// after pickup), carry no shipment to correct.
    #[error("{action} does not apply to {id} ({kind}): it has no shipment draft; use `review dismiss` once it is handled")]
    NoDraft {
        id: String,
        kind: String,
        action: &'static str,
    },
    #[error("{}", invalid_text(id, reasons))]
    Invalid {
        id: String,
        reasons: Vec<ReviewReason>,
    },
    /// The shipment was admitted, but another operator (or a newer event) closed the item
    /// between this release's check and its close. The admit is idempotent, so nothing was
    /// sent twice that matters; the operator should still know.
    #[error("{id} was closed meanwhile as {status}{}; this release had already admitted the shipment: {}",
        resolution.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
        admitted.summary())]
    ClosedMeanwhile {
        id: String,
        status: String,
        resolution: Option<String>,
        admitted: Admitted,
    },

    /// Refused for a reason the message gives (a receipt recorded with another amount, a
    /// report not there yet).
    #[error("{0}")]
    Refused(String),

    #[error("stack {stack}: {problem}")]
    Stack { stack: String, problem: String },
    #[error(transparent)]
    Aws(#[from] StorageError),
    #[error(transparent)]
    Dlq(#[from] DlqError),
    #[error(transparent)]
    Cod(#[from] domain::cod::CodRunError),
    /// `doctor` found a fail: the report is the output, and the exit code says so.
    #[error("{0}")]
    Unhealthy(String),
    #[error("start-up: {0}")]
    Startup(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Input { .. } | CliError::Fix(_) => exit::USAGE,
            CliError::NotFound(_)
            | CliError::NotOpen { .. }
            | CliError::NoDraft { .. }
            | CliError::Invalid { .. }
            | CliError::ClosedMeanwhile { .. }
            | CliError::Refused(_)
            | CliError::Unhealthy(_) => exit::REFUSED,
            CliError::Stack { .. }
            | CliError::Aws(_)
            | CliError::Dlq(_)
            | CliError::Cod(_)
            | CliError::Startup(_) => exit::AWS,
        }
    }
}

/// The desk's refusals keep their CLI names (and exit codes): scripts and tests match them.
impl From<domain::desk::DeskError> for CliError {
    fn from(error: domain::desk::DeskError) -> Self {
        use domain::desk::DeskError;
        match error {
            DeskError::NotFound(id) => CliError::NotFound(id),
            DeskError::NotOpen {
                id,
                status,
                resolution,
            } => CliError::NotOpen {
                id,
                status,
                resolution,
            },
            DeskError::NoDraft { id, kind, action } => CliError::NoDraft { id, kind, action },
            DeskError::Invalid { id, reasons } => CliError::Invalid { id, reasons },
            DeskError::ClosedMeanwhile {
                id,
                status,
                resolution,
                admitted,
            } => CliError::ClosedMeanwhile {
                id,
                status,
                resolution,
                admitted,
            },
            DeskError::Fix(error) => CliError::Fix(error),
            DeskError::Storage(error) => CliError::Aws(error),
        }
    }
}

fn invalid_text(id: &str, reasons: &[ReviewReason]) -> String {
    let mut text = format!("the draft of {id} is not valid; the item stays open:");
    for reason in reasons {
        let _ = write!(text, "\n  - {}", crate::review::describe(reason));
    }
    text
}

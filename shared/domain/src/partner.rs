//! How a call to a partner (a courier, a store, a marketplace, an SMS or e-mail provider)
//! can fail, in the terms the pipeline decides on: was the request taken, may it have been,
//! and will asking again help. One type for every partner, so that retry, review and
//! "never do it twice" read the same everywhere; what is special to a kind of partner (a
//! courier that finds a task too late to change) is a variant of that partner's own error.

use crate::error::{Classify, Transience};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartnerError {
    /// The request was not taken: never reached the partner, or a 5xx that says "not now".
    /// Safe to send again.
    #[error("{partner} unavailable: {message}")]
    Unavailable {
        partner: &'static str,
        message: String,
    },
    /// The partner's rate limit (429, or its own throttling code). Not taken; send again
    /// after `retry_after` when it says.
    #[error("{partner} throttled the request")]
    Throttled {
        partner: &'static str,
        retry_after: Option<Duration>,
    },
    /// The request may have reached the partner and done its work (a timeout after sending,
    /// a cut connection, a success we could not read). Never repeat a create blindly after
    /// this: look first, or give up.
    #[error("{partner} outcome unknown: {message}")]
    Ambiguous {
        partner: &'static str,
        message: String,
    },
    /// The partner refuses this request and will every time (a 4xx). `code` is the
    /// partner's own code for the refusal ("21614", "MessageRejected") or else the HTTP
    /// status ("422").
    #[error("{partner} rejected the request ({code}): {message}")]
    Rejected {
        partner: &'static str,
        code: String,
        message: String,
    },
    /// Our side is wrong: credentials, an account setting, a base URL. People fix it, after
    /// which the waiting work must still go through, so it is retried, not reviewed.
    #[error("{partner} configuration: {message}")]
    Config {
        partner: &'static str,
        message: String,
    },
}

impl PartnerError {
    pub fn unavailable(partner: &'static str, message: impl Into<String>) -> Self {
        PartnerError::Unavailable {
            partner,
            message: message.into(),
        }
    }

    pub fn ambiguous(partner: &'static str, message: impl Into<String>) -> Self {
        PartnerError::Ambiguous {
            partner,
            message: message.into(),
        }
    }

    pub fn rejected(
        partner: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        PartnerError::Rejected {
            partner,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn config(partner: &'static str, message: impl Into<String>) -> Self {
        PartnerError::Config {
            partner,
            message: message.into(),
        }
    }

    /// Which partner answered ("onfleet", "shopify", "twilio").
    pub fn partner(&self) -> &'static str {
        match self {
            PartnerError::Unavailable { partner, .. }
            | PartnerError::Throttled { partner, .. }
            | PartnerError::Ambiguous { partner, .. }
            | PartnerError::Rejected { partner, .. }
            | PartnerError::Config { partner, .. } => partner,
        }
    }

    /// Whether the partner may have acted on the request although we saw no success.
    pub fn may_have_succeeded(&self) -> bool {
        matches!(self, PartnerError::Ambiguous { .. })
    }

    /// How long the partner asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PartnerError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status of a refusal whose code is one.
    pub fn rejected_status(&self) -> Option<u16> {
        match self {
            PartnerError::Rejected { code, .. } => code.parse().ok(),
            _ => None,
        }
    }
}

/// Only a refusal is permanent. An ambiguous outcome is transient here because every
/// partner effect the pipeline repeats looks for its earlier result first (by reference,
/// by tracking number, by event id); the one effect that cannot look — a customer message —
/// ends as UNKNOWN on [`PartnerError::Ambiguous`] instead of asking this.
impl Classify for PartnerError {
    fn transience(&self) -> Transience {
        match self {
            PartnerError::Rejected { .. } => Transience::Permanent,
            PartnerError::Unavailable { .. }
            | PartnerError::Throttled { .. }
            | PartnerError::Ambiguous { .. }
            | PartnerError::Config { .. } => Transience::Transient,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_is_permanent_and_only_an_unknown_outcome_may_have_succeeded() {
        let all = [
            PartnerError::unavailable("p", "x"),
            PartnerError::Throttled {
                partner: "p",
                retry_after: Some(Duration::from_secs(3)),
            },
            PartnerError::ambiguous("p", "x"),
            PartnerError::rejected("p", "422", "x"),
            PartnerError::config("p", "x"),
        ];
        let permanent: Vec<bool> = all.iter().map(|e| !e.is_transient()).collect();
        assert_eq!(permanent, [false, false, false, true, false]);
        let maybe: Vec<bool> = all.iter().map(PartnerError::may_have_succeeded).collect();
        assert_eq!(maybe, [false, false, true, false, false]);
        assert_eq!(all[1].retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(all[3].rejected_status(), Some(422));
        assert_eq!(all[0].partner(), "p");
    }
}

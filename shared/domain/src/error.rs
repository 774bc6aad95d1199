//! What every error in courier-bridge must say: may trying again help?
//!
//! The answer decides the path (DESIGN.md, principle 3): a transient failure goes back to
//! its queue with backoff and, in the end, to the DLQ; a permanent one becomes a review item
//! and is never retried on its own.

/// Whether retrying the same work later can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transience {
    /// Timeouts, 5xx, 429, throttling: the same request may succeed later.
    Transient,
    /// Invalid data, a partner's 4xx: the same request will fail again.
    Permanent,
}

/// Implemented by every error type of the crate.
pub trait Classify {
    fn transience(&self) -> Transience;

    fn is_transient(&self) -> bool {
        self.transience() == Transience::Transient
    }
}

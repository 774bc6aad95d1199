//! Onfleet webhooks (being built).

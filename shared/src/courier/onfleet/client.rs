//! Onfleet task API client (being built).

//! One test binary for the crate (every test binary links the whole dependency tree).
mod notify_templates;

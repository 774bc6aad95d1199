//! One test binary for the crate (every test binary links the whole dependency tree).
mod fleet;
mod hostile_text;
mod notify_templates;

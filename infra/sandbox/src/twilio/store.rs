//! The messages the fake Twilio API accepted.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How a message travels, from the `whatsapp:` prefix of its addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwilioChannel {
    Sms,
    Whatsapp,
}

/// One accepted message, as [`crate::Sandbox::sms_messages`] lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwilioMessageView {
    /// `SM` + 32 lower-case hex digits.
    pub sid: String,
    /// As sent, e.g. `+14155550100` or `whatsapp:+14155550100`.
    pub to: String,
    /// As sent; `None` when only a `MessagingServiceSid` was given.
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: String,
    pub channel: TwilioChannel,
}

/// An accepted message with what the resource shows besides the view.
#[derive(Clone, Debug)]
pub(super) struct Message {
    pub(super) view: TwilioMessageView,
    pub(super) num_segments: u32,
    pub(super) num_media: usize,
    pub(super) created: OffsetDateTime,
}

/// Messages in acceptance order, indexed by sid.
#[derive(Debug, Default)]
pub(crate) struct TwilioStore {
    messages: Vec<Message>,
    by_sid: HashMap<String, usize>,
}

impl TwilioStore {
    pub(super) fn insert(&mut self, message: Message) {
        self.by_sid
            .insert(message.view.sid.clone(), self.messages.len());
        self.messages.push(message);
    }

    pub(super) fn get(&self, sid: &str) -> Option<&Message> {
        self.by_sid.get(sid).map(|&index| &self.messages[index])
    }

    pub(crate) fn views(&self) -> Vec<TwilioMessageView> {
        self.messages
            .iter()
            .map(|message| message.view.clone())
            .collect()
    }
}

//! courier-bridge's delivery domain: what an order becomes, how a delivery moves, what a
//! customer is told, and how cash adds up. Pure: no I/O, no AWS, no HTTP. Everything the
//! pipeline reads or writes goes through the [`ports`] this crate owns; the adapters that
//! implement them (DynamoDB and SQS in `courier-bridge-aws`, partner APIs in
//! `courier-bridge-partners`) depend on this crate, never the reverse.
//!
//! - Shipments: [`shipment`], [`draft`] (a channel's order as text, validated into a
//!   [`Shipment`]), [`money`], [`phone`], [`postal`], [`rules`] (a store's trigger policy
//!   and services), [`order`] (what an order event means for delivery), [`review`] (why an
//!   order needs a person), [`text`] (each text field's limit, and the bidi controls no
//!   driver or customer is shown).
//! - Their life: [`status`] (who may move a shipment where), [`record`] (the stored
//!   shipment), [`courier`] (tasks and courier-neutral events), [`delivery`] (applying a
//!   courier's event and telling the store and the customer), [`sla`].
//! - The pipeline: [`messages`] between the steps, [`pipeline`] (admit, review, cancel),
//!   [`audit`] (every inbound payload and what it produced), [`idempotency`] (the
//!   create-once protocol), [`write_back`] (what goes back to the store), [`notify`]
//!   (message templates and the outbox), [`cod`] (cash on delivery).
//! - Dispatch: [`dispatch`] (the fleet, local time, a day's plan of routes).
//! - [`error`]: every error says whether trying again can help.

pub mod audit;
pub mod clock;
pub mod cod;
pub mod courier;
pub mod delivery;
pub mod desk;
pub mod dispatch;
pub mod draft;
pub mod error;
pub mod history;
pub mod html;
pub mod idempotency;
pub mod locale;
pub mod messages;
pub mod money;
pub mod notify;
pub mod order;
pub mod partner;
pub mod phone;
pub mod pipeline;
pub mod ports;
pub mod postal;
pub mod record;
pub mod reschedule;
pub mod review;
pub mod rules;
pub mod shipment;
pub mod sla;
pub mod status;
pub mod text;
pub mod timeline;
pub mod write_back;

pub use courier::{CourierKind, CourierTask};
pub use draft::ShipmentDraft;
pub use error::{Classify, Transience};
pub use money::{Currency, Money, MoneyError};
pub use partner::PartnerError;
pub use phone::{Phone, PhoneError};
pub use ports::StorageError;
pub use record::ShipmentRecord;
pub use review::{ReviewItem, ReviewReason};
pub use rules::{ServiceType, StoreConfig, TriggerPolicy};
pub use shipment::{
    Address, Channel, Contact, ContactKind, DeliveryWindow, Dimensions, Notes, Parcel, Payment,
    Recipient, Shipment, ShipmentKey, ShipmentKeyError,
};
pub use status::{Actor, ShipmentStatus};

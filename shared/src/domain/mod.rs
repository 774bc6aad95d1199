//! The delivery domain: pure types and rules, no I/O, no channel or courier names.

pub mod cod;
pub mod draft;
pub mod money;
pub mod phone;
pub mod postal;
pub mod review;
pub mod rules;
pub mod shipment;
pub mod status;

pub use draft::ShipmentDraft;
pub use money::{Currency, Money, MoneyError};
pub use phone::{Phone, PhoneError};
pub use review::ReviewReason;
pub use rules::{ServiceType, StoreConfig, TriggerPolicy};
pub use shipment::{
    Address, Channel, Contact, ContactKind, DeliveryWindow, Dimensions, Notes, Parcel, Payment,
    Recipient, Shipment, ShipmentKey, ShipmentKeyError,
};
pub use status::{Actor, ShipmentStatus};

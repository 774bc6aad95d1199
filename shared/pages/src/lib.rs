//! The web pages people read, rendered on the server: no JavaScript needed, nothing a store
//! or a customer typed ever read as markup (maud escapes every value it is given; markup is
//! only what the templates themselves write).
//!
//! The customer's pages (tracking, fix-my-address, reschedule) speak the store's
//! [`Locale`] (its rules' `locale`, English when none is set): every word on them comes
//! from `locale.rs`. The pages that know no store (not found, try again) and the
//! dispatcher's console are English.

pub mod console;
mod fix_address;
mod locale;
mod reschedule;
mod track;

pub use domain::locale::Locale;
pub use fix_address::{
    address_settled, customer_can_fix, fix_address, problem_words, same_address, AddressFields,
    FixAddressView, Settled,
};
pub use reschedule::{reschedule, slot_words, RescheduleState, RescheduleView, SlotChoice};
pub use track::{track, TrackView};

/// The headers every page goes out with: a content security policy that allows no inline
/// script and no framing, no content-type guessing, no referrer leaking a link's token.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

/// What a link that is forged, expired, for another shipment or for another purpose gets:
/// the same page for each, saying nothing of which it was.
pub fn not_found() -> String {
    layout(
        Locale::En,
        "Page not found",
        maud::html! {
            h1 { "Page not found" }
            p { "This link does not work. If it came in a message about a delivery, the store can send a new one." }
        },
    )
}

/// What a page says when what it needs cannot be read now (a store down, a secret missing):
/// come back later; nothing of the cause.
pub fn unavailable() -> String {
    layout(
        Locale::En,
        "Please try again",
        maud::html! {
            h1 { "Please try again in a moment" }
            p { "This page cannot be shown right now." }
        },
    )
}

/// A page in `locale`'s language: title, body, the stylesheet (a file, so the policy needs
/// no inline style).
fn layout(locale: Locale, title: &str, body: maud::Markup) -> String {
    maud::html! {
        (maud::DOCTYPE)
        html lang=(locale.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/static/pages.css";
            }
            body { main { (body) } }
        }
    }
    .into_string()
}

/// The stylesheet the pages link to: small, mobile first.
pub const STYLESHEET: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;\
background:#fafafa}main{max-width:36rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem}\
ol.path{list-style:none;padding:0}ol.path li{padding:.4rem 0;border-bottom:1px solid #ddd}\
ol.path time{color:#555;margin-left:.5rem}.now{font-size:1.2rem;font-weight:600}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{color:#555}\
h1,p,dd,li{overflow-wrap:anywhere}h2{font-size:1.05rem;margin-top:1.5rem}\
.field label{display:block;font-weight:600;margin-bottom:.2rem}\
.field input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #767676;\
border-radius:4px}button{font-size:1rem;padding:.6rem 1rem;border:0;border-radius:4px;\
background:#0b5cad;color:#fff}.problems{border-left:4px solid #b00020;padding:.2rem .8rem;\
background:#fff4f4}.problems h2{margin-top:.4rem}fieldset{border:1px solid #ccc;border-radius:4px}\
.choice{display:flex;align-items:center;gap:.6rem}.choice input{width:1.3rem;height:1.3rem}\
.notice{border-left:4px solid #0b5cad;padding:.2rem .8rem;background:#eef5fc}";

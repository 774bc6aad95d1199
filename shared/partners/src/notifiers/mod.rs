//! Customer message providers: SMS and WhatsApp through a Twilio-compatible API, e-mail
//! through Amazon SES (feature `ses`), and a local capture sink. Each implements
//! [`domain::ports::Notifier`]; [`Providers`] is the deployment's choice per channel
//! (`NOTIFY_*_PROVIDER`), with Twilio's credentials from the secret store.

pub mod capture;
#[cfg(feature = "ses")]
pub mod ses;
pub mod twilio;

pub use capture::{CaptureNotifier, CaptureReadError, CapturedMessage};
pub use twilio::{TwilioCredentials, TwilioNotifier};

use async_trait::async_trait;
use domain::notify::NotifyChannel;
use domain::ports::{secret_json, Notifier, Notifiers, Secrets};
use domain::PartnerError;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

/// Who carries a channel's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Nobody: the channel is off.
    Off,
    /// Lines in a local file, for the demo and tests.
    Capture,
    /// SMS and WhatsApp.
    Twilio,
    /// E-mail.
    Ses,
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "off" => Ok(Provider::Off),
            "capture" => Ok(Provider::Capture),
            "twilio" => Ok(Provider::Twilio),
            "ses" => Ok(Provider::Ses),
            other => Err(format!(
                "{other:?} is not a provider (off, capture, twilio, ses)"
            )),
        }
    }
}

/// The provider of each channel and what they need.
#[derive(Debug, Clone)]
pub struct ProviderChoice {
    pub sms: Provider,
    pub whatsapp: Provider,
    pub email: Provider,
    /// The verified SES sender ("Deliveries <deliveries@shop.example>").
    pub email_from: Option<String>,
    pub ses_configuration_set: Option<String>,
    /// Where the capture provider writes `messages.jsonl`.
    pub capture_dir: PathBuf,
}

/// Twilio for SMS and WhatsApp, SES for e-mail: what a deployment without settings uses.
impl Default for ProviderChoice {
    fn default() -> Self {
        ProviderChoice {
            sms: Provider::Twilio,
            whatsapp: Provider::Twilio,
            email: Provider::Ses,
            email_from: None,
            ses_configuration_set: None,
            capture_dir: "/tmp/courier-bridge-messages".into(),
        }
    }
}

impl ProviderChoice {
    /// The choice from `NOTIFY_SMS_PROVIDER`, `NOTIFY_WHATSAPP_PROVIDER` (default `twilio`),
    /// `NOTIFY_EMAIL_PROVIDER` (default `ses`), `NOTIFY_EMAIL_FROM`, `SES_CONFIGURATION_SET`
    /// and `NOTIFY_CAPTURE_DIR` (default `/tmp/courier-bridge-messages`), read through
    /// `lookup`; an unknown provider name is refused with the variable's name.
    pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<ProviderChoice, String> {
        let value = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let provider = |name: &str, default: Provider| match value(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|e| format!("{name}: {e}")),
        };
        let defaults = ProviderChoice::default();
        Ok(ProviderChoice {
            sms: provider("NOTIFY_SMS_PROVIDER", defaults.sms)?,
            whatsapp: provider("NOTIFY_WHATSAPP_PROVIDER", defaults.whatsapp)?,
            email: provider("NOTIFY_EMAIL_PROVIDER", defaults.email)?,
            email_from: value("NOTIFY_EMAIL_FROM"),
            ses_configuration_set: value("SES_CONFIGURATION_SET"),
            capture_dir: value("NOTIFY_CAPTURE_DIR").map_or(defaults.capture_dir, Into::into),
        })
    }

    pub fn of(&self, channel: NotifyChannel) -> Provider {
        match channel {
            NotifyChannel::Sms => self.sms,
            NotifyChannel::WhatsApp => self.whatsapp,
            NotifyChannel::Email => self.email,
        }
    }
}

/// The deployment's providers. Twilio's credentials are read from `notify/twilio` on each
/// use (cached by the secret store), so a rotated token takes effect without a restart.
pub struct Providers {
    choice: ProviderChoice,
    secrets: Arc<dyn Secrets>,
    http: reqwest::Client,
    #[cfg(feature = "ses")]
    ses: Option<aws_sdk_sesv2::Client>,
}

/// Twilio's secret.
pub const TWILIO_SECRET: &str = "notify/twilio";

impl Providers {
    pub fn new(choice: ProviderChoice, secrets: Arc<dyn Secrets>, http: reqwest::Client) -> Self {
        Providers {
            choice,
            secrets,
            http,
            #[cfg(feature = "ses")]
            ses: None,
        }
    }

    /// E-mail through this SES client (the notify function's; only it sends).
    #[cfg(feature = "ses")]
    pub fn with_ses(mut self, client: aws_sdk_sesv2::Client) -> Self {
        self.ses = Some(client);
        self
    }

    pub fn choice(&self) -> &ProviderChoice {
        &self.choice
    }

    #[cfg(feature = "ses")]
    fn ses(&self) -> Result<Arc<dyn Notifier>, PartnerError> {
        let client = self.ses.clone().ok_or_else(|| {
            PartnerError::config("ses", "this function has no SES client".to_owned())
        })?;
        let from = self.choice.email_from.clone().ok_or_else(|| {
            PartnerError::config(
                "ses",
                "NOTIFY_EMAIL_FROM is not set (the verified SES sender)".to_owned(),
            )
        })?;
        Ok(Arc::new(ses::SesNotifier::new(
            client,
            from,
            self.choice.ses_configuration_set.clone(),
        )))
    }

    #[cfg(not(feature = "ses"))]
    fn ses(&self) -> Result<Arc<dyn Notifier>, PartnerError> {
        Err(PartnerError::config(
            "ses",
            "built without SES (the partners crate's `ses` feature)".to_owned(),
        ))
    }
}

#[async_trait]
impl Notifiers for Providers {
    fn is_on(&self, channel: NotifyChannel) -> bool {
        self.choice.of(channel) != Provider::Off
    }

    async fn notifier(
        &self,
        channel: NotifyChannel,
    ) -> Result<Option<Arc<dyn Notifier>>, PartnerError> {
        match (self.choice.of(channel), channel) {
            (Provider::Off, _) => Ok(None),
            (Provider::Capture, _) => Ok(Some(Arc::new(CaptureNotifier::new(
                self.choice.capture_dir.clone(),
            )))),
            (Provider::Twilio, NotifyChannel::Sms | NotifyChannel::WhatsApp) => {
                let credentials: TwilioCredentials =
                    secret_json(self.secrets.as_ref(), TWILIO_SECRET)
                        .await
                        .map_err(|e| e.for_partner(twilio::PARTNER))?;
                Ok(Some(Arc::new(TwilioNotifier::new(
                    self.http.clone(),
                    credentials,
                ))))
            }
            (Provider::Ses, NotifyChannel::Email) => self.ses().map(Some),
            (provider, channel) => Err(PartnerError::config(
                "notify",
                format!("no provider {provider:?} for {}", channel.as_str()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_are_read_and_unknown_ones_refused() {
        assert_eq!("twilio".parse(), Ok(Provider::Twilio));
        assert_eq!(" off ".parse(), Ok(Provider::Off));
        assert!("sendgrid".parse::<Provider>().is_err());
    }

    #[test]
    fn the_choice_defaults_to_twilio_and_ses_and_names_a_bad_variable() {
        let choice = ProviderChoice::read(|_| None).unwrap();
        assert_eq!(
            (choice.sms, choice.whatsapp, choice.email),
            (Provider::Twilio, Provider::Twilio, Provider::Ses)
        );
        let err = ProviderChoice::read(|name| {
            (name == "NOTIFY_EMAIL_PROVIDER").then(|| "mailgun".to_owned())
        })
        .unwrap_err();
        assert!(err.contains("NOTIFY_EMAIL_PROVIDER"), "{err}");
    }
}

//! The languages a store's customer pages can be written in. A store sets one in its rules
//! (`locale`, a BCP 47 tag such as "de" or "de-AT"); the pages speak it, English when none
//! is set.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language the customer pages are written in. Only the language counts: a region
/// ("de-AT", "fr_CA") is read as its language, since the pages' words do not differ by
/// region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    De,
    Fr,
    Es,
}

impl Locale {
    /// Every locale, English first.
    pub const ALL: [Locale; 4] = [Locale::En, Locale::De, Locale::Fr, Locale::Es];

    /// Its ISO 639-1 code, as `<html lang>` carries it: "en", "de", "fr", "es".
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Fr => "fr",
            Locale::Es => "es",
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Locale {
    type Err = String;

    /// A BCP 47 tag: a language, optionally followed by subtags (region, script) separated
    /// by `-` (or `_`, as POSIX locales write them), each 1 to 8 letters or digits. The
    /// language must be one the pages are written in; anything else is refused, so a typo
    /// is not met as English later.
    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        let mut subtags = tag.split(['-', '_']);
        let language = subtags.next().unwrap_or_default();
        let locale = match language.to_ascii_lowercase().as_str() {
            "en" => Locale::En,
            "de" => Locale::De,
            "fr" => Locale::Fr,
            "es" => Locale::Es,
            _ => {
                return Err(format!(
                    "{tag:?} is not a language the pages are written in: one of \"en\", \"de\", \
                     \"fr\", \"es\" (a region such as \"de-AT\" is read as its language)"
                ))
            }
        };
        let well_formed = |subtag: &str| {
            (1..=8).contains(&subtag.len()) && subtag.chars().all(|c| c.is_ascii_alphanumeric())
        };
        if !subtags.all(well_formed) {
            return Err(format!(
                "{tag:?} is not a language tag like \"de\" or \"de-AT\""
            ));
        }
        Ok(locale)
    }
}

impl Serialize for Locale {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_language_or_a_language_with_a_region_is_read_as_the_language() {
        for (tag, locale) in [
            ("en", Locale::En),
            ("de", Locale::De),
            ("fr", Locale::Fr),
            ("es", Locale::Es),
            ("DE", Locale::De),
            ("de-AT", Locale::De),
            ("de-CH", Locale::De),
            ("fr_CA", Locale::Fr),
            ("es-419", Locale::Es),
            ("en-GB", Locale::En),
            ("es-Latn-ES", Locale::Es),
        ] {
            assert_eq!(tag.parse::<Locale>(), Ok(locale), "{tag}");
        }
    }

    #[test]
    fn an_unknown_language_is_refused_naming_the_supported_ones() {
        for tag in ["pt", "pt-BR", "it", "english", "deu", "", "d", "e"] {
            let error = tag.parse::<Locale>().unwrap_err();
            assert!(
                error.contains(r#"one of "en", "de", "fr", "es""#),
                "{tag}: {error}"
            );
            assert!(error.contains(&format!("{tag:?}")), "{tag}: {error}");
        }
    }

    #[test]
    fn a_malformed_tag_is_refused() {
        for tag in [
            "de-",
            "de--AT",
            "de-AT-",
            "de AT",
            "de-Österreich",
            "de-ABCDEFGHI",
            " de",
        ] {
            assert!(tag.parse::<Locale>().is_err(), "{tag}");
        }
    }

    #[test]
    fn it_is_written_as_its_language_code() {
        for locale in Locale::ALL {
            let json = serde_json::to_value(locale).unwrap();
            assert_eq!(json, serde_json::json!(locale.as_str()));
            assert_eq!(serde_json::from_value::<Locale>(json).unwrap(), locale);
            assert_eq!(locale.to_string(), locale.as_str());
        }
        let read: Locale = serde_json::from_value(serde_json::json!("fr-BE")).unwrap();
        assert_eq!(serde_json::to_value(read).unwrap(), serde_json::json!("fr"));
        assert!(serde_json::from_value::<Locale>(serde_json::json!(49)).is_err());
        assert_eq!(Locale::default(), Locale::En);
    }
}

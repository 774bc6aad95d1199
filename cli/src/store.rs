//! `courier-bridge store`: a store's configuration (trigger policy, service rules) in the
//! stores table. Writes are parsed into [`StoreConfig`] first, whose unknown-field check
//! turns a typo into an error here rather than a silently ignored setting in production.

use crate::error::CliError;
use aws::stack::StackStores;
use domain::ports::StoreRules;
use domain::shipment::is_valid_store_name;
use domain::{Channel, StoreConfig};

/// The stores table's key, as [`domain::aws::stores::StoreConfigs`] writes it.
fn check_store(store: &str) -> Result<(), CliError> {
    if is_valid_store_name(store) {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "{store:?} is not a store name (lowercase letters, digits, '-', '_'; at most 64)"
        )))
    }
}

/// The stored configuration, or `None` when the store runs on the defaults.
pub async fn show(
    stores: &StackStores,
    channel: Channel,
    store: &str,
) -> Result<Option<StoreConfig>, CliError> {
    check_store(store)?;
    Ok(stores.stores.read(channel, store).await?)
}

pub fn render_show(
    channel: Channel,
    store: &str,
    config: Option<&StoreConfig>,
) -> Result<String, CliError> {
    let (note, config) = match config {
        Some(config) => (String::new(), config.clone()),
        None => (
            format!("# {channel}:{store} has no stored configuration; the defaults apply:\n"),
            StoreConfig::default(),
        ),
    };
    let json = serde_json::to_string_pretty(&config).map_err(|e| CliError::Input {
        what: "configuration".into(),
        error: e.to_string(),
    })?;
    Ok(format!("{note}{json}"))
}

/// Parses a configuration file's text; `what` names it in the error.
pub fn parse(text: &str, what: &str) -> Result<StoreConfig, CliError> {
    serde_json::from_str(text).map_err(|e| CliError::Input {
        what: what.to_owned(),
        error: e.to_string(),
    })
}

/// Reads `path` ("-": standard input) and parses it.
pub fn read_file(path: &std::path::Path) -> Result<StoreConfig, CliError> {
    let what = path.display().to_string();
    let text = if what == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| CliError::Input {
        what: what.clone(),
        error: e.to_string(),
    })?;
    parse(&text, &what)
}

pub async fn put(
    stores: &StackStores,
    channel: Channel,
    store: &str,
    config: &StoreConfig,
) -> Result<(), CliError> {
    check_store(store)?;
    Ok(stores.stores.put(channel, store, config).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_setting_is_an_error_naming_it() {
        let err = parse(r#"{"triger": "ready_to_ship"}"#, "config.json").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("config.json: "), "{text}");
        assert!(text.contains("triger"), "{text}");
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
    }
}

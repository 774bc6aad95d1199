//! amazon write-back (being built).

use super::{StoreError, StoreWriter};
use crate::services::Services;

pub async fn writer(
    _services: &Services,
    secret: &str,
) -> Result<Box<dyn StoreWriter>, StoreError> {
    Err(StoreError::Config(format!(
        "{secret}: write-back not built yet"
    )))
}

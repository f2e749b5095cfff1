//! Model values as the store's text columns, and back.
//!
//! Names are the model's own (nmap's: `open|filtered`, `syn-ack`, `tcp`),
//! read back through the model's serde names so the two cannot drift.

use crate::StoreError;
use serde::de::{value::StrDeserializer, DeserializeOwned, IntoDeserializer};

/// `text` as the model enum `T` (by its serde name); errors name `what`.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    let de: StrDeserializer<'_, serde::de::value::Error> = text.into_deserializer();
    T::deserialize(de).map_err(|_| StoreError::BadData(format!("an unknown {what} `{text}`")))
}

/// Seconds since the epoch as a column value (the model's `u64`s fit
/// `BIGINT` for any real date; larger values are clamped).
pub(crate) fn secs(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// A column value back as seconds (negative values read as 0).
pub(crate) fn unsecs(t: Option<i64>) -> u64 {
    t.and_then(|t| u64::try_from(t).ok()).unwrap_or(0)
}

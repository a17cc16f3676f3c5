//! `record`'s moving parts: exporter scrapers on their own threads, the journal writer, and the
//! wrapped command with its signals forwarded.

pub mod child;
pub mod journal;
pub mod scraper;

//! `dcgm-sol record`'s pure parts: the journal each scrape is appended to as it is taken, the
//! OpenMetrics file the scrapes become (what the recorded source and
//! `promtool tsdb create-blocks-from openmetrics` read), and the manifest holding the wrapped
//! command's exact run window.

mod journal;
mod manifest;
mod openmetrics;

pub use journal::{Decoded, JournalEntry, Outcome, decode_journal, encode_entry};
pub use manifest::{MANIFEST_SCHEMA, RecordGap, RecordManifest};
pub use openmetrics::{OpenMetrics, to_openmetrics};

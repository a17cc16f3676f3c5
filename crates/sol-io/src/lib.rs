//! I/O edges of `dcgm-sol`: campaign layout and path confinement, atomic writes, file reading
//! with errors that name the file, and the file-backed metric source (recorded scrapes).
//! Everything computed comes from `sol-core`.

mod atomic;
mod campaign;
mod ceilings_file;
mod read;
mod recorded;

pub use atomic::{write_atomic, write_atomic_batch};
pub use campaign::{
    BENCH_RUN_REF, BenchRunRef, CampaignDir, CellDir, LLMD_WITH_SOL_SUFFIX, LayoutError,
    OUTPUT_CORRELATION, OUTPUT_FROZEN, PERFBENCH_FILE, RECORD_JOURNAL, RECORD_MANIFEST,
    SCRAPES_FILE, SPLIT_MARKER,
};
pub use ceilings_file::{CeilingsChoice, load_ceilings};
pub use read::{InputError, read_text};
pub use recorded::{RecordedScrapes, SourceError, load_recorded_scrapes};

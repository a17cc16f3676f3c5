//! Pure core of `dcgm-sol`.
//!
//! Everything here is a function of its arguments: no file system, no network, no clock. The
//! edges (`sol-io`, the `dcgm-sol` binary) read files and talk to servers, then hand plain data to
//! this crate and write what it returns.
//!
//! Data flows one way: bench file → [`window::Window`] + [`context::Context`] → metric source →
//! [`series::RawSeries`] → integration and per-resource maths → result → writers.

pub mod assemble;
pub mod bench;
pub mod catalog;
pub mod ceilings;
pub mod context;
pub mod correlation;
pub mod frozen;
pub mod integrate;
pub mod labels;
pub mod measure;
pub mod probe;
pub mod promapi;
pub mod record;
pub mod report;
pub mod scope;
pub mod scrape;
pub mod series;
pub mod source;
pub mod steady;
pub mod summary;
#[cfg(test)]
mod test_support;
pub mod time;
pub mod unique_keys;
pub mod validity;
pub mod window;

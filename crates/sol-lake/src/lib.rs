//! The dcgm-sol data lake: campaign results as Parquet tables that DuckDB, Spark, Trino and
//! Polars read as they are.
//!
//! Two tables, Hive-partitioned by campaign (`<lake>/<table>/campaign=<slug>/part-<id>.parquet`):
//! [`campaign_table`] (`campaign_v1`, one row per campaign) and [`cell_table`] (`dcgm_sol_v1`,
//! one row per cell × resource). Building the rows and the Parquet bytes is pure; where the
//! files go is a [`store::LakeStore`] — a local directory today, an object store later — so the
//! table code never changes with the destination.

pub mod campaign_table;
pub mod cell_table;
pub mod columns;
pub mod publish;
pub mod store;
#[cfg(test)]
mod test_support;

/// Version of both tables' schemas, stored in every row (`schema_version`). Bumped (with new
/// table names `*_v2`) only for a change that breaks readers; adding a nullable column is not one.
pub const SCHEMA_VERSION: i32 = 1;

/// A table could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LakeError {
    /// A required column has no value in a row.
    #[error("table {table}: column `{column}` has no value in row {row} (a required column)")]
    MissingValue {
        /// Table.
        table: String,
        /// Column.
        column: String,
        /// Row index.
        row: usize,
    },
    /// Arrow or Parquet refused the data.
    #[error("table {table}: cannot encode as Parquet: {reason}")]
    Encode {
        /// Table.
        table: String,
        /// Why.
        reason: String,
    },
    /// The campaign slug cannot name a Hive partition portably.
    #[error(
        "campaign slug `{slug}` cannot name a lake partition: {reason}; rename the campaign directory to letters, digits, `.`, `_` and `-`"
    )]
    BadSlug {
        /// The slug.
        slug: String,
        /// Why.
        reason: &'static str,
    },
    /// A timestamp in a result is not a valid instant.
    #[error("cell {cell_id}: {field} `{value}` is not an RFC 3339 instant; re-run correlate")]
    BadInstant {
        /// Cell.
        cell_id: String,
        /// Field of dcgm_correlation.json.
        field: &'static str,
        /// Its text.
        value: String,
    },
}

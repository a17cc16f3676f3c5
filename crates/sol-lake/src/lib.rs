//! The dcgm-sol data lake: campaign results as Parquet tables that DuckDB, Spark, Trino and
//! Polars read as they are.

pub mod store;

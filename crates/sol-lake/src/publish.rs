//! What one `publish` writes: the partition name, the two tables' Parquet files, and whether
//! the campaign may be published at all. Pure: the caller reads the cells and hands the files
//! to a [`crate::store::LakeStore`].

use sol_core::correlation::Correlation;
use sol_core::report::status::{ReportCell, ReportStatus};

use crate::columns::{Column, Value, encode_parquet};
use crate::store::PartitionFile;
use crate::{LakeError, campaign_table, cell_table};

/// Hive partition column of both tables.
pub const PARTITION_COLUMN: &str = "campaign";

/// The publish run's identity, stamped on every row.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishMeta {
    /// Unique per run (also the file names' suffix).
    pub publish_id: String,
    /// When, µs since the epoch (UTC).
    pub published_at_us: i64,
    /// Campaign slug.
    pub campaign_slug: String,
    /// Version of the publishing dcgm-sol.
    pub tool_version: String,
}

/// A row stamped with the publish run that wrote it.
pub trait Published {
    /// The run's identity.
    fn meta(&self) -> &PublishMeta;
}

/// The columns every lake table starts with: schema version, publish run and time, campaign.
pub fn publish_columns<R: Published>() -> Vec<Column<R>> {
    vec![
        Column::required(
            "schema_version",
            "Schema version of the table (1).",
            Value::int32(|_: &R| Some(crate::SCHEMA_VERSION)),
        ),
        Column::required(
            "publish_id",
            "Id of the publish run that wrote the row (one per `dcgm-sol publish`, the same in both tables).",
            Value::text(|r: &R| Some(r.meta().publish_id.clone())),
        ),
        Column::required(
            "published_at",
            "When the row was published.",
            Value::timestamp_us(|r: &R| Some(r.meta().published_at_us)),
        ),
        Column::required(
            "campaign_slug",
            "Campaign (also the `campaign` Hive partition).",
            Value::text(|r: &R| Some(r.meta().campaign_slug.clone())),
        ),
    ]
}

/// `campaign=<slug>`. Only letters, digits, `.`, `_` and `-` are allowed: every other character
/// would need Hive's percent-escaping, which readers apply inconsistently; a leading `.` or `_`
/// would hide the partition from Spark and Hive.
pub fn partition_name(slug: &str) -> Result<String, LakeError> {
    let bad = |reason| LakeError::BadSlug {
        slug: slug.to_string(),
        reason,
    };
    if slug.is_empty() {
        return Err(bad("it is empty"));
    }
    if slug.starts_with(['.', '_']) {
        return Err(bad(
            "a leading `.` or `_` hides a partition from Spark and Hive",
        ));
    }
    if !slug
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(bad(
            "it holds a character other than ASCII letters, digits, `.`, `_` and `-`",
        ));
    }
    Ok(format!("{PARTITION_COLUMN}={slug}"))
}

/// Why a campaign is not published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No cell has a readable result.
    NothingToPublish,
    /// `--strict` and some cell has no readable result.
    Ungrounded {
        /// Cells with a result.
        grounded: usize,
        /// Cells in the campaign.
        total: usize,
    },
}

/// Whether the campaign may be published. Without `strict` an ungrounded campaign publishes
/// (its campaign row records the gap); with it, every cell must have a result.
pub fn check_publishable(status: &ReportStatus, strict: bool) -> Result<(), Refusal> {
    if status.cells_with_result == 0 {
        return Err(Refusal::NothingToPublish);
    }
    if strict && !status.dcgm_grounded {
        return Err(Refusal::Ungrounded {
            grounded: status.cells_with_result,
            total: status.cells_total,
        });
    }
    Ok(())
}

/// The files of one publish, in commit order: the cell × resource table first and the campaign
/// table last, so a campaign row is only ever visible with its detail rows in place.
pub fn lake_files(
    meta: &PublishMeta,
    cells: &[ReportCell],
    status: &ReportStatus,
) -> Result<Vec<PartitionFile>, LakeError> {
    let results: Vec<&Correlation> = cells.iter().filter_map(ReportCell::result).collect();
    let file_name = format!("part-{}.parquet", meta.publish_id);
    let detail_rows = cell_table::rows(meta, &results)?;
    let detail = encode_parquet(cell_table::TABLE, &cell_table::columns(), &detail_rows)?;
    let campaign_row = campaign_table::row(meta, &results, status);
    let campaign = encode_parquet(
        campaign_table::TABLE,
        &campaign_table::columns(),
        std::slice::from_ref(&campaign_row),
    )?;
    Ok(vec![
        PartitionFile {
            table: cell_table::TABLE.to_string(),
            file_name: file_name.clone(),
            bytes: detail,
        },
        PartitionFile {
            table: campaign_table::TABLE.to_string(),
            file_name,
            bytes: campaign,
        },
    ])
}

/// Both tables' schemas as Markdown, for `docs/lake.md`.
pub fn schema_markdown() -> String {
    format!(
        "### `{}` — one row per campaign\n\n{}\n### `{}` — one row per cell × resource\n\n{}",
        campaign_table::TABLE,
        crate::columns::markdown(&campaign_table::columns()),
        cell_table::TABLE,
        crate::columns::markdown(&cell_table::columns()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{example_cells, meta};
    use sol_core::report::status::{CellInput, report_status};

    #[test]
    fn partition_names_are_portable() {
        assert_eq!(
            partition_name("h200-tp8_sweep.v2").unwrap(),
            "campaign=h200-tp8_sweep.v2"
        );
        for (slug, reason) in [
            ("", "empty"),
            (".hidden", "leading"),
            ("_tmp", "leading"),
            ("a=b", "character other than"),
            ("a b", "character other than"),
            ("50%", "character other than"),
            ("sweep:1", "character other than"),
            ("café", "character other than"),
        ] {
            let error = partition_name(slug).unwrap_err().to_string();
            assert!(error.contains(reason), "{slug:?}: {error}");
            assert!(error.contains("rename the campaign directory"), "{error}");
        }
    }

    #[test]
    fn strict_refuses_only_an_ungrounded_campaign() {
        let mut cells = example_cells();
        let grounded = report_status("s", &cells, Vec::new());
        assert_eq!(check_publishable(&grounded, true), Ok(()));
        cells.push(ReportCell {
            cell_id: "c256".into(),
            input: CellInput::Unreadable("invalid JSON".into()),
        });
        let gap = report_status("s", &cells, Vec::new());
        assert_eq!(check_publishable(&gap, false), Ok(()));
        assert_eq!(
            check_publishable(&gap, true),
            Err(Refusal::Ungrounded {
                grounded: 4,
                total: 5
            })
        );
        let empty = [ReportCell {
            cell_id: "c1".into(),
            input: CellInput::NoResult,
        }];
        let nothing = report_status("s", &empty, Vec::new());
        assert_eq!(
            check_publishable(&nothing, false),
            Err(Refusal::NothingToPublish)
        );
    }

    #[test]
    fn detail_table_first_campaign_table_last_one_name() {
        let cells = example_cells();
        let status = report_status("h200-tp8-sweep", &cells, Vec::new());
        let files = lake_files(&meta(), &cells, &status).unwrap();
        let layout: Vec<(&str, &str)> = files
            .iter()
            .map(|f| (f.table.as_str(), f.file_name.as_str()))
            .collect();
        assert_eq!(
            layout,
            [
                ("dcgm_sol_v1", "part-0123abcd.parquet"),
                ("campaign_v1", "part-0123abcd.parquet")
            ]
        );
        // Parquet files start and end with the magic `PAR1`.
        for file in &files {
            assert_eq!(&file.bytes[..4], b"PAR1");
            assert_eq!(&file.bytes[file.bytes.len() - 4..], b"PAR1");
        }
    }

    /// `docs/lake.md` carries the schemas between two markers; they must be the code's.
    /// After changing a column, regenerate with `UPDATE_LAKE_DOC=1 cargo test -p sol-lake`.
    #[test]
    fn documented_schema_is_the_code_schema() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/lake.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let (begin, end) = ("<!-- schema:begin -->\n", "<!-- schema:end -->");
        let start = doc.find(begin).expect("schema begin marker") + begin.len();
        let stop = doc.find(end).expect("schema end marker");
        let generated = schema_markdown();
        if std::env::var_os("UPDATE_LAKE_DOC").is_some() {
            let updated = format!("{}{generated}{}", &doc[..start], &doc[stop..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        assert_eq!(
            &doc[start..stop],
            generated,
            "docs/lake.md is stale: run UPDATE_LAKE_DOC=1 cargo test -p sol-lake"
        );
    }
}

//! `atlas.jsonl`: one JSON object per cell (`cell_id` plus context keys such as `model`,
//! `hardware`, `hw_key`, `quant`, `tensor_parallel`, `concurrency`, `captured_at`). Its context
//! fills what the cell's own bench file leaves unset.

use serde_json::Value;

use super::BenchError;
use super::context_keys::{fill_slot, slot_for_key};
use super::json_fields::Field;
use crate::context::Context;

/// One cell's line in `atlas.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub struct AtlasRecord {
    /// The cell.
    pub cell_id: String,
    /// Context keys found on the line.
    pub context: Context,
    /// Conflicts between alias keys.
    pub notes: Vec<String>,
}

/// Reads every non-blank line of `atlas.jsonl`. A line that is not a JSON object with a string
/// `cell_id` is an error naming the line.
pub fn read_atlas(file_name: &str, text: &str) -> Result<Vec<AtlasRecord>, BenchError> {
    // Each record with its 1-based line.
    let mut records: Vec<(usize, AtlasRecord)> = Vec::new();
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: Value = serde_json::from_str(line).map_err(|e| BenchError::NotJson {
            file: file_name.to_string(),
            line: index + 1,
            column: e.column(),
            message: e.to_string(),
        })?;
        let root = Field::document(file_name, index, &value);
        let cell_id = root.require("cell_id")?.text()?;
        let mut context = Context::default();
        let mut notes = Vec::new();
        for (key, field) in root.members()? {
            if let Some(slot) = slot_for_key(key) {
                fill_slot(&mut context, slot, &field, &mut notes)?;
            }
        }
        let record = AtlasRecord {
            cell_id,
            context,
            notes,
        };
        match records
            .iter()
            .position(|(_, r): &(usize, AtlasRecord)| r.cell_id == record.cell_id)
        {
            // The same line twice (a concatenated copy) says nothing new.
            Some(earlier) if records[earlier].1.context == record.context => {}
            Some(earlier) => {
                return Err(BenchError::DuplicateCell {
                    file: file_name.to_string(),
                    cell_id: record.cell_id,
                    lines: [records[earlier].0, index + 1],
                });
            }
            None => records.push((index + 1, record)),
        }
    }
    Ok(records.into_iter().map(|(_, record)| record).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_described_twice_differently_is_refused_and_a_copy_is_not() {
        let line = |tp: u32| format!("{{\"cell_id\": \"c32\", \"tensor_parallel\": {tp}}}\n");
        let copied = format!("{}{}", line(8), line(8));
        assert_eq!(read_atlas("atlas.jsonl", &copied).unwrap().len(), 1);
        let clash = format!("{}\n{}", line(8), line(4));
        let error = read_atlas("atlas.jsonl", &clash).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "atlas.jsonl: cell `c32` is described twice, differently (lines 1 and 3)"
            ),
            "{error}"
        );
    }

    #[test]
    fn reads_context_per_cell_and_names_bad_lines() {
        let text = "{\"cell_id\": \"c8\", \"model\": \"m\", \"tensor_parallel\": 8, \"quant\": \"fp8\"}\n\n{\"cell_id\": \"c16\", \"tp\": \"4\"}\n";
        let records = read_atlas("atlas.jsonl", text).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].context.tensor_parallel, Some(8));
        assert_eq!(records[0].context.quant.as_deref(), Some("fp8"));
        assert_eq!(records[1].context.tensor_parallel, Some(4));
        let missing = read_atlas("atlas.jsonl", "{\"model\": \"m\"}\n").unwrap_err();
        assert!(missing.to_string().contains("cell_id"), "{missing}");
        let broken = read_atlas("atlas.jsonl", "{\"cell_id\": \"a\"}\n{oops\n").unwrap_err();
        assert!(
            matches!(broken, BenchError::NotJson { line: 2, .. }),
            "{broken:?}"
        );
    }
}

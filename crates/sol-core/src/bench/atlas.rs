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
    let mut records = Vec::new();
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
        records.push(AtlasRecord {
            cell_id,
            context,
            notes,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

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

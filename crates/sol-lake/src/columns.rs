//! A table as a list of typed columns, each with its name, meaning and the function that reads
//! its value from a row. The same list gives the Arrow schema, the record batch, the Parquet
//! bytes and the schema documentation, so the three cannot drift apart.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::LakeError;

/// Time zone of every timestamp column.
const UTC: &str = "UTC";
/// Arrow field metadata key holding a column's meaning (kept in the Parquet file's schema).
const DESCRIPTION_KEY: &str = "description";
/// Parquet key-value metadata naming the table a file belongs to.
const TABLE_KEY: &str = "dcgm_sol.table";

/// Reads one value of type `T` from a row of type `R`; `None` is SQL NULL.
pub type Reader<R, T> = Box<dyn Fn(&R) -> Option<T>>;

/// Reads a list of texts from a row (empty, never NULL, when there is nothing).
pub type ListReader<R> = Box<dyn Fn(&R) -> Vec<String>>;

/// How a column's value is read from a row.
pub enum Value<R> {
    /// UTF-8 text.
    Text(Reader<R, String>),
    /// 64-bit float.
    Float(Reader<R, f64>),
    /// 32-bit integer.
    Int32(Reader<R, i32>),
    /// 64-bit integer.
    Int64(Reader<R, i64>),
    /// Boolean.
    Bool(Reader<R, bool>),
    /// Instant in microseconds since the Unix epoch, UTC.
    TimestampUs(Reader<R, i64>),
    /// List of texts (never NULL: empty when there is nothing).
    TextList(ListReader<R>),
}

impl<R> Value<R> {
    /// A text column's reader.
    pub fn text(read: impl Fn(&R) -> Option<String> + 'static) -> Self {
        Value::Text(Box::new(read))
    }
    /// A float column's reader.
    pub fn float(read: impl Fn(&R) -> Option<f64> + 'static) -> Self {
        Value::Float(Box::new(read))
    }
    /// An int32 column's reader.
    pub fn int32(read: impl Fn(&R) -> Option<i32> + 'static) -> Self {
        Value::Int32(Box::new(read))
    }
    /// An int64 column's reader.
    pub fn int64(read: impl Fn(&R) -> Option<i64> + 'static) -> Self {
        Value::Int64(Box::new(read))
    }
    /// A boolean column's reader.
    pub fn bool(read: impl Fn(&R) -> Option<bool> + 'static) -> Self {
        Value::Bool(Box::new(read))
    }
    /// A timestamp column's reader (µs since the epoch, UTC).
    pub fn timestamp_us(read: impl Fn(&R) -> Option<i64> + 'static) -> Self {
        Value::TimestampUs(Box::new(read))
    }
    /// A text-list column's reader.
    pub fn text_list(read: impl Fn(&R) -> Vec<String> + 'static) -> Self {
        Value::TextList(Box::new(read))
    }
}

/// One column of a table.
pub struct Column<R> {
    /// Column name (snake_case; units in the name).
    pub name: String,
    /// Whether the column may hold NULL.
    pub nullable: bool,
    /// What the value means, for the schema documentation.
    pub doc: String,
    /// How to read it.
    pub value: Value<R>,
}

impl<R> Column<R> {
    /// A column that is never NULL: a row without a value is an error, not a silent NULL.
    pub fn required(name: impl Into<String>, doc: impl Into<String>, value: Value<R>) -> Self {
        Column {
            name: name.into(),
            nullable: false,
            doc: doc.into(),
            value,
        }
    }

    /// A column that may hold NULL.
    pub fn optional(name: impl Into<String>, doc: impl Into<String>, value: Value<R>) -> Self {
        Column {
            name: name.into(),
            nullable: true,
            doc: doc.into(),
            value,
        }
    }

    fn data_type(&self) -> DataType {
        match self.value {
            Value::Text(_) => DataType::Utf8,
            Value::Float(_) => DataType::Float64,
            Value::Int32(_) => DataType::Int32,
            Value::Int64(_) => DataType::Int64,
            Value::Bool(_) => DataType::Boolean,
            Value::TimestampUs(_) => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            Value::TextList(_) => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
            }
        }
    }

    /// SQL-ish type name for the documentation.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Text(_) => "string",
            Value::Float(_) => "double",
            Value::Int32(_) => "int32",
            Value::Int64(_) => "int64",
            Value::Bool(_) => "boolean",
            Value::TimestampUs(_) => "timestamp(µs, UTC)",
            Value::TextList(_) => "list<string>",
        }
    }

    fn field(&self) -> Field {
        let description = HashMap::from([(DESCRIPTION_KEY.to_string(), self.doc.clone())]);
        Field::new(&self.name, self.data_type(), self.nullable).with_metadata(description)
    }

    fn array(&self, table: &str, rows: &[R]) -> Result<ArrayRef, LakeError> {
        let array: ArrayRef = match &self.value {
            Value::Text(read) => Arc::new(StringArray::from(self.checked(table, rows, read)?)),
            Value::Float(read) => Arc::new(Float64Array::from(self.checked(table, rows, read)?)),
            Value::Int32(read) => Arc::new(Int32Array::from(self.checked(table, rows, read)?)),
            Value::Int64(read) => Arc::new(Int64Array::from(self.checked(table, rows, read)?)),
            Value::Bool(read) => Arc::new(BooleanArray::from(self.checked(table, rows, read)?)),
            Value::TimestampUs(read) => Arc::new(
                TimestampMicrosecondArray::from(self.checked(table, rows, read)?)
                    .with_timezone(UTC),
            ),
            Value::TextList(read) => {
                let mut builder = ListBuilder::new(StringBuilder::new());
                for row in rows {
                    for item in read(row) {
                        builder.values().append_value(item);
                    }
                    builder.append(true);
                }
                Arc::new(builder.finish())
            }
        };
        Ok(array)
    }

    /// Reads the column's values; a NULL in a required column is an error naming the row.
    fn checked<T>(
        &self,
        table: &str,
        rows: &[R],
        read: &dyn Fn(&R) -> Option<T>,
    ) -> Result<Vec<Option<T>>, LakeError> {
        let values: Vec<Option<T>> = rows.iter().map(read).collect();
        match values.iter().position(Option::is_none) {
            Some(row) if !self.nullable => Err(LakeError::MissingValue {
                table: table.to_string(),
                column: self.name.clone(),
                row,
            }),
            _ => Ok(values),
        }
    }
}

/// The Arrow schema of a table.
pub fn schema<R>(columns: &[Column<R>]) -> Schema {
    Schema::new(columns.iter().map(Column::field).collect::<Vec<_>>())
}

/// One Parquet file (Snappy-compressed) holding `rows`, tagged with the table's name.
pub fn encode_parquet<R>(
    table: &str,
    columns: &[Column<R>],
    rows: &[R],
) -> Result<Vec<u8>, LakeError> {
    let schema = Arc::new(schema(columns));
    let arrays = columns
        .iter()
        .map(|c| c.array(table, rows))
        .collect::<Result<Vec<_>, _>>()?;
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| LakeError::Encode {
        table: table.to_string(),
        reason: e.to_string(),
    })?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            TABLE_KEY.to_string(),
            table.to_string(),
        )]))
        .build();
    let encode_error = |e: parquet::errors::ParquetError| LakeError::Encode {
        table: table.to_string(),
        reason: e.to_string(),
    };
    let mut bytes = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut bytes, schema, Some(properties)).map_err(encode_error)?;
    writer.write(&batch).map_err(encode_error)?;
    writer.close().map_err(encode_error)?;
    Ok(bytes)
}

/// The columns as a Markdown table (name, type, NULL allowed, meaning).
pub fn markdown<R>(columns: &[Column<R>]) -> String {
    let mut out = String::from("| Column | Type | Nullable | Meaning |\n|---|---|---|---|\n");
    for c in columns {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.name,
            c.type_name(),
            if c.nullable { "yes" } else { "no" },
            c.doc.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    struct Row {
        name: &'static str,
        value: Option<f64>,
        at_us: i64,
        tags: Vec<String>,
    }

    fn columns() -> Vec<Column<Row>> {
        vec![
            Column::required(
                "name",
                "a name",
                Value::Text(Box::new(|r: &Row| Some(r.name.to_string()))),
            ),
            Column::optional(
                "value",
                "a value",
                Value::Float(Box::new(|r: &Row| r.value)),
            ),
            Column::required(
                "at",
                "when",
                Value::TimestampUs(Box::new(|r: &Row| Some(r.at_us))),
            ),
            Column::required(
                "tags",
                "labels",
                Value::TextList(Box::new(|r: &Row| r.tags.clone())),
            ),
        ]
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                name: "a",
                value: Some(1.5),
                at_us: 1_000_000,
                tags: vec!["x".into(), "y".into()],
            },
            Row {
                name: "b",
                value: None,
                at_us: 2_000_000,
                tags: vec![],
            },
        ]
    }

    #[test]
    fn parquet_round_trip_keeps_types_nulls_and_docs() {
        let bytes = encode_parquet("t_v1", &columns(), &rows()).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
        let table_tag = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap()
            .iter()
            .find(|kv| kv.key == TABLE_KEY)
            .and_then(|kv| kv.value.clone());
        assert_eq!(table_tag.as_deref(), Some("t_v1"));
        let schema = builder.schema().clone();
        assert_eq!(
            schema.field_with_name("at").unwrap().data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(
            schema.field_with_name("value").unwrap().metadata()["description"],
            "a value"
        );
        let batch = builder.build().unwrap().next().unwrap().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let value = batch
            .column_by_name("value")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert_eq!(value.value(0), 1.5);
        assert!(value.is_null(1));
        let tags = batch
            .column_by_name("tags")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::ListArray>()
            .unwrap();
        assert_eq!(tags.value_length(0), 2);
        assert_eq!(tags.value_length(1), 0);
    }

    #[test]
    fn a_missing_required_value_names_table_column_and_row() {
        let columns = vec![Column::required(
            "value",
            "must be there",
            Value::Float(Box::new(|r: &Row| r.value)),
        )];
        let error = encode_parquet("t_v1", &columns, &rows()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "table t_v1: column `value` has no value in row 1 (a required column)"
        );
    }

    #[test]
    fn markdown_lists_every_column_with_its_type() {
        let text = markdown(&columns());
        assert!(text.contains("| `at` | timestamp(µs, UTC) | no | when |"));
        assert!(text.contains("| `value` | double | yes | a value |"));
        assert_eq!(text.lines().count(), 2 + 4);
    }
}

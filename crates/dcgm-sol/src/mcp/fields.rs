//! A tool's arguments, declared once: each field gives its JSON Schema, how its value is
//! checked and which CLI flag it becomes — so the schema a client sees, the validation and the
//! command line cannot drift apart.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::confine::CampaignsRoot;
use super::jsonrpc::{RpcError, kind_of};

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A string.
    Text,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An integer ≥ the minimum.
    Integer {
        /// Smallest value accepted.
        minimum: u64,
    },
    /// A number.
    Number,
    /// A switch: `true` adds the flag.
    Switch,
    /// Strings, each becoming one occurrence of the flag.
    TextList,
    /// A file or directory, resolved inside the campaigns directory (relative paths from it).
    Path {
        /// Used when the field is absent, relative to the campaigns directory.
        default: Option<&'static str>,
    },
}

/// Where the value goes on the command line.
#[derive(Debug, Clone, Copy)]
pub enum Placement {
    /// `--flag=value` (a switch: `--flag`; a list: `--flag=value` per item).
    Flag(&'static str),
    /// After every flag: these words, `--`, then the value (a subcommand's positional).
    Trailing(&'static [&'static str]),
}

/// One argument of a tool.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Property name in `arguments`.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Shown to the agent.
    pub description: &'static str,
    /// Must be given.
    pub required: bool,
    /// Its CLI form.
    pub placement: Placement,
}

impl Field {
    /// An optional field.
    pub const fn new(
        name: &'static str,
        kind: Kind,
        placement: Placement,
        description: &'static str,
    ) -> Field {
        Field {
            name,
            kind,
            description,
            required: false,
            placement,
        }
    }

    /// The same field, required.
    pub const fn required(self) -> Field {
        Field {
            required: true,
            ..self
        }
    }

    /// The field's JSON Schema.
    fn schema(&self) -> Value {
        let mut schema = match self.kind {
            Kind::Text => json!({"type": "string"}),
            Kind::OneOf(values) => json!({"type": "string", "enum": values}),
            Kind::Integer { minimum } => json!({"type": "integer", "minimum": minimum}),
            Kind::Number => json!({"type": "number"}),
            Kind::Switch => json!({"type": "boolean"}),
            Kind::TextList => json!({"type": "array", "items": {"type": "string"}}),
            Kind::Path { default } => {
                let mut path = json!({"type": "string"});
                if let Some(default) = default {
                    path["default"] = json!(default);
                }
                path
            }
        };
        let description = match self.kind {
            Kind::Path { .. } => format!(
                "{} A path inside the campaigns directory; a relative path is taken from it.",
                self.description
            ),
            _ => self.description.to_string(),
        };
        schema["description"] = json!(description);
        schema
    }
}

/// The `inputSchema` of a tool taking `fields`. No top-level `oneOf`/`anyOf`: several agent
/// clients refuse them, so "this or that" rules are stated in the descriptions and enforced by
/// the CLI.
pub fn input_schema(fields: &[Field]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), f.schema()))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    // An empty `required` is invalid in draft 4, which some clients still validate against.
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// Why arguments were not turned into a command line.
#[derive(Debug, PartialEq)]
pub enum Rejection {
    /// They do not fit the schema: the client's error, answered as a JSON-RPC error.
    Invalid(RpcError),
    /// A path lies outside the campaigns directory: the tool's error, answered as a tool
    /// result the agent can act on.
    Outside(String),
}

impl From<RpcError> for Rejection {
    fn from(error: RpcError) -> Rejection {
        Rejection::Invalid(error)
    }
}

/// Checks `arguments` against `fields` and turns them into CLI arguments, every path confined
/// to the campaigns directory.
pub fn command_line(
    tool: &str,
    fields: &[Field],
    arguments: Option<&Value>,
    root: &CampaignsRoot,
) -> Result<Vec<String>, Rejection> {
    let empty = Map::new();
    let given = match arguments {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "tool `{tool}`: `arguments` must be an object, not {}",
                kind_of(other)
            ))
            .into());
        }
    };
    if let Some(unknown) = given.keys().find(|k| !fields.iter().any(|f| f.name == *k)) {
        let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
        return Err(RpcError::invalid_params(format!(
            "tool `{tool}` has no argument `{unknown}`; it takes: {}",
            known.join(", ")
        ))
        .into());
    }
    let mut flags = Vec::new();
    let mut trailing = Vec::new();
    for field in fields {
        // A null stands for "not given": several clients send every optional argument.
        let value = given.get(field.name).filter(|v| !v.is_null());
        let texts = match value {
            Some(value) => check(tool, field, value)?,
            None if field.required => {
                return Err(RpcError::invalid_params(format!(
                    "tool `{tool}` needs the argument `{}` ({})",
                    field.name, field.description
                ))
                .into());
            }
            None => match field.kind {
                Kind::Path {
                    default: Some(default),
                } => vec![default.to_string()],
                _ => continue,
            },
        };
        let texts = match field.kind {
            Kind::Path { .. } => confined(root, field.name, &texts).map_err(Rejection::Outside)?,
            _ => texts,
        };
        match field.placement {
            Placement::Flag(flag) => flags.extend(texts.iter().map(|text| match field.kind {
                Kind::Switch => flag.to_string(),
                _ => format!("{flag}={text}"),
            })),
            Placement::Trailing(words) => {
                trailing.extend(words.iter().map(|w| w.to_string()));
                trailing.push("--".to_string());
                trailing.extend(texts);
            }
        }
    }
    flags.extend(trailing);
    Ok(flags)
}

/// The value's texts when it fits the field: one per flag occurrence (a switch: one when on,
/// none when off).
fn check(tool: &str, field: &Field, value: &Value) -> Result<Vec<String>, RpcError> {
    let wrong = |expected: &str| {
        RpcError::invalid_params(format!(
            "tool `{tool}`: argument `{}` must be {expected}, not {}",
            field.name,
            kind_of(value)
        ))
    };
    match (field.kind, value) {
        (Kind::Text | Kind::Path { .. }, Value::String(text)) => Ok(vec![text.clone()]),
        (Kind::Text | Kind::Path { .. }, _) => Err(wrong("a string")),
        (Kind::OneOf(values), Value::String(text)) if values.contains(&text.as_str()) => {
            Ok(vec![text.clone()])
        }
        (Kind::OneOf(values), _) => Err(RpcError::invalid_params(format!(
            "tool `{tool}`: argument `{}` must be one of {}, not {value}",
            field.name,
            values.join(", ")
        ))),
        (Kind::Integer { minimum }, Value::Number(n)) => match n.as_u64() {
            Some(n) if n >= minimum => Ok(vec![n.to_string()]),
            _ => Err(wrong(&format!("an integer ≥ {minimum}"))),
        },
        (Kind::Integer { .. }, _) => Err(wrong("an integer")),
        (Kind::Number, Value::Number(n)) => Ok(vec![n.to_string()]),
        (Kind::Number, _) => Err(wrong("a number")),
        (Kind::Switch, Value::Bool(on)) => Ok(if *on { vec![String::new()] } else { vec![] }),
        (Kind::Switch, _) => Err(wrong("a boolean")),
        (Kind::TextList, Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| wrong("an array of strings")),
        (Kind::TextList, _) => Err(wrong("an array of strings")),
    }
}

fn confined(root: &CampaignsRoot, name: &str, texts: &[String]) -> Result<Vec<String>, String> {
    texts
        .iter()
        .map(|text| {
            root.confine(name, text)
                .map(|path: PathBuf| path.display().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::INVALID_PARAMS;

    const FIELDS: [Field; 6] = [
        Field::new("campaign", Kind::Text, Placement::Flag("--campaign"), "c").required(),
        Field::new("all", Kind::Switch, Placement::Flag("--all"), "a"),
        Field::new("host", Kind::TextList, Placement::Flag("--host"), "h"),
        Field::new(
            "mode",
            Kind::OneOf(&["x", "y"]),
            Placement::Flag("--mode"),
            "m",
        ),
        Field::new(
            "lake",
            Kind::Path {
                default: Some("lake"),
            },
            Placement::Flag("--lake"),
            "l",
        ),
        Field::new("key", Kind::Text, Placement::Trailing(&["show"]), "k"),
    ];

    fn root() -> (tempfile::TempDir, CampaignsRoot) {
        let dir = tempfile::tempdir().unwrap();
        let root = CampaignsRoot::open(dir.path()).unwrap();
        (dir, root)
    }

    fn line(arguments: Value) -> Result<Vec<String>, Rejection> {
        let (_dir, root) = root();
        command_line("t", &FIELDS, Some(&arguments), &root).map(|flags| {
            // The lake default resolves inside the (temporary) root: shown by its last part.
            flags
                .into_iter()
                .map(|f| match f.strip_prefix("--lake=") {
                    Some(path) => format!("--lake=…/{}", path.rsplit('/').next().unwrap()),
                    None => f,
                })
                .collect()
        })
    }

    fn invalid_code(arguments: Value) -> i64 {
        match line(arguments) {
            Err(Rejection::Invalid(error)) => error.code,
            other => panic!("expected a JSON-RPC error, got {other:?}"),
        }
    }

    #[test]
    fn the_schema_lists_every_field_and_only_them() {
        let schema = input_schema(&FIELDS);
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["required"], json!(["campaign"]));
        assert_eq!(schema["properties"].as_object().unwrap().len(), 6);
        assert_eq!(schema["properties"]["mode"]["enum"], json!(["x", "y"]));
        assert_eq!(schema["properties"]["host"]["items"]["type"], "string");
        assert_eq!(schema["properties"]["lake"]["default"], "lake");
        // Nothing required: no `required` at all (draft 4 forbids an empty one).
        assert!(input_schema(&FIELDS[1..]).get("required").is_none());
    }

    #[test]
    fn arguments_become_explicit_flags_with_positionals_last() {
        assert_eq!(
            line(json!({"key": "h100", "campaign": "c", "all": true, "host": ["a", "b"], "mode": "y"}))
                .unwrap(),
            [
                "--campaign=c",
                "--all",
                "--host=a",
                "--host=b",
                "--mode=y",
                "--lake=…/lake",
                "show",
                "--",
                "h100"
            ]
        );
        // A false switch and nulls add nothing; a value that looks like a flag stays a value.
        assert_eq!(
            line(json!({"campaign": "--force", "all": false, "mode": null, "key": null})).unwrap(),
            ["--campaign=--force", "--lake=…/lake"]
        );
    }

    #[test]
    fn arguments_that_do_not_fit_are_invalid_params() {
        assert_eq!(invalid_code(json!({})), INVALID_PARAMS, "missing required");
        assert_eq!(invalid_code(json!({"campaign": 5})), INVALID_PARAMS);
        assert_eq!(
            invalid_code(json!({"campaign": "c", "bogus": 1})),
            INVALID_PARAMS
        );
        assert_eq!(
            invalid_code(json!({"campaign": "c", "mode": "z"})),
            INVALID_PARAMS
        );
        assert_eq!(
            invalid_code(json!({"campaign": "c", "host": ["a", 1]})),
            INVALID_PARAMS
        );
        assert_eq!(
            invalid_code(json!({"campaign": "c", "all": "yes"})),
            INVALID_PARAMS
        );
        assert_eq!(invalid_code(json!(["c"])), INVALID_PARAMS);
    }

    #[test]
    fn integers_below_the_minimum_are_refused() {
        let (_dir, root) = root();
        let fields = [Field::new(
            "n",
            Kind::Integer { minimum: 1 },
            Placement::Flag("--n"),
            "n",
        )];
        let run = |v: Value| command_line("t", &fields, Some(&json!({ "n": v })), &root);
        assert_eq!(run(json!(8)).unwrap(), ["--n=8"]);
        for bad in [json!(0), json!(-1), json!(1.5), json!("8")] {
            assert!(
                matches!(run(bad.clone()), Err(Rejection::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_path_outside_is_the_tools_error() {
        match line(json!({"campaign": "c", "lake": "/etc"})) {
            Err(Rejection::Outside(message)) => {
                assert!(
                    message.contains("outside the campaigns directory"),
                    "{message}"
                )
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

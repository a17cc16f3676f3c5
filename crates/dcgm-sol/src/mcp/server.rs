//! The MCP methods this server answers — `initialize`, `ping`, `tools/list`, `tools/call` — and
//! the notifications it heeds (`notifications/initialized`, `notifications/cancelled`).

use std::path::PathBuf;

use serde_json::{Value, json};

use super::child::{InFlight, tool_error, tool_result};
use super::confine::CampaignsRoot;
use super::fields::{Rejection, command_line};
use super::jsonrpc::{
    INVALID_REQUEST, Incoming, METHOD_NOT_FOUND, RpcError, error_response, kind_of, result_response,
};
use super::tools::{Tool, catalog};

/// Protocol versions spoken, newest first: a client asking for another gets the newest.
pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

/// The server's state: where tools may act and how to run them.
#[derive(Debug)]
pub struct Server {
    root: CampaignsRoot,
    exe: PathBuf,
    ceilings: Option<PathBuf>,
    read_only: bool,
    tools: Vec<Tool>,
    in_flight: InFlight,
}

/// What to do with one message.
#[derive(Debug)]
pub enum Step {
    /// Send this response.
    Reply(Value),
    /// Run this tool call (it may take a while) and send its response unless it is cancelled.
    Call(Call),
    /// Nothing to send.
    Nothing,
}

/// A validated tool call.
#[derive(Debug)]
pub struct Call {
    id: Value,
    key: String,
    args: Vec<String>,
}

impl Server {
    /// A server whose tools run `exe` (this binary) on `root`; `ceilings` is the operator's
    /// `--ceilings`, passed on unless a call names its own.
    pub fn new(
        root: CampaignsRoot,
        exe: PathBuf,
        ceilings: Option<PathBuf>,
        read_only: bool,
    ) -> Server {
        Server {
            root,
            exe,
            ceilings,
            read_only,
            tools: catalog(read_only),
            in_flight: InFlight::default(),
        }
    }

    /// Decides what one message needs.
    pub fn step(&self, incoming: Incoming) -> Step {
        match incoming {
            Incoming::Request { id, method, params } => {
                match self.request(&id, &method, params.as_ref()) {
                    Ok(step) => step,
                    Err(error) => Step::Reply(error_response(&id, &error)),
                }
            }
            Incoming::Notification { method, params } => {
                if method == "notifications/cancelled"
                    && let Some(id) = params.as_ref().and_then(|p| p.get("requestId"))
                {
                    tracing::info!("call {id} cancelled by the client");
                    self.in_flight.cancel(&id.to_string());
                }
                Step::Nothing
            }
            Incoming::Response => Step::Nothing,
            Incoming::Invalid { id, error } => Step::Reply(error_response(&id, &error)),
        }
    }

    fn request(&self, id: &Value, method: &str, params: Option<&Value>) -> Result<Step, RpcError> {
        let reply = |result: Value| Ok(Step::Reply(result_response(id, result)));
        match method {
            "initialize" => reply(self.initialize(params)?),
            "ping" => reply(json!({})),
            "tools/list" => reply(json!({
                "tools": self.tools.iter().map(Tool::listing).collect::<Vec<_>>()
            })),
            "tools/call" => self.call(id, params),
            other => Err(RpcError::new(
                METHOD_NOT_FOUND,
                format!(
                    "method `{other}` not found; this server answers initialize, ping, tools/list and tools/call"
                ),
            )),
        }
    }

    fn initialize(&self, params: Option<&Value>) -> Result<Value, RpcError> {
        let requested = params
            .and_then(|p| p.get("protocolVersion"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                RpcError::invalid_params(
                    "initialize needs params.protocolVersion (a string such as \"2025-06-18\")",
                )
            })?;
        let version = PROTOCOL_VERSIONS
            .iter()
            .find(|v| **v == requested)
            .unwrap_or(&PROTOCOL_VERSIONS[0]);
        let mode = if self.read_only {
            " This server runs read-only: only ceilings, probe and plan are offered."
        } else {
            ""
        };
        Ok(json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {
                "name": "dcgm-sol",
                "title": "dcgm-sol: workload speed-of-light from DCGM metrics",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "instructions": format!(
                "Campaigns live in {}; every path argument must lie inside it (relative paths are taken from it). A usual order: ceilings, probe (what the source holds), plan (the queries, nothing sent), correlate (writes each cell's dcgm_correlation.json), then render, summary, publish. Error messages are the CLI's: a flag --foo-bar there is the argument foo_bar here.{mode}",
                self.root.path().display()
            ),
        }))
    }

    fn call(&self, id: &Value, params: Option<&Value>) -> Result<Step, RpcError> {
        let params = match params {
            Some(Value::Object(params)) => params,
            Some(other) => {
                return Err(RpcError::invalid_params(format!(
                    "tools/call params must be an object {{name, arguments}}, not {}",
                    kind_of(other)
                )));
            }
            None => {
                return Err(RpcError::invalid_params(
                    "tools/call needs params {name, arguments}",
                ));
            }
        };
        let name = match params.get("name") {
            Some(Value::String(name)) => name,
            Some(other) => {
                return Err(RpcError::invalid_params(format!(
                    "tools/call params.name must be a string, not {}",
                    kind_of(other)
                )));
            }
            None => return Err(RpcError::invalid_params("tools/call needs params.name")),
        };
        let tool = self.tools.iter().find(|t| t.name == name).ok_or_else(|| {
            let offered: Vec<&str> = self.tools.iter().map(|t| t.name).collect();
            let mode = if self.read_only {
                " (read-only server)"
            } else {
                ""
            };
            RpcError::invalid_params(format!(
                "unknown tool `{name}`; this server{mode} offers: {}",
                offered.join(", ")
            ))
        })?;
        let flags = match command_line(name, &tool.fields, params.get("arguments"), &self.root) {
            Ok(flags) => flags,
            Err(Rejection::Invalid(error)) => return Err(error),
            Err(Rejection::Outside(message)) => {
                tracing::warn!("tools/call {name} refused: {message}");
                return Ok(Step::Reply(result_response(id, tool_error(&message))));
            }
        };
        let key = id.to_string();
        if !self.in_flight.begin(&key) {
            return Err(RpcError::new(
                INVALID_REQUEST,
                format!("request id {id} is already in use by a call in flight"),
            ));
        }
        let mut args = vec![
            "--campaigns-dir".to_string(),
            self.root.path().display().to_string(),
            "--json".to_string(),
        ];
        let call_names_ceilings = flags.iter().any(|f| f.starts_with("--ceilings="));
        if let (Some(ceilings), false) = (&self.ceilings, call_names_ceilings) {
            args.push(format!("--ceilings={}", ceilings.display()));
        }
        args.extend(tool.verb.iter().map(|w| w.to_string()));
        args.extend(flags);
        tracing::info!("tools/call {name}: dcgm-sol {}", args.join(" "));
        Ok(Step::Call(Call {
            id: id.clone(),
            key,
            args,
        }))
    }

    /// Runs a call; its response, or `None` when the client cancelled it.
    pub fn finish(&self, call: &Call) -> Option<Value> {
        let result = match self.in_flight.run(&call.key, &self.exe, &call.args)? {
            Ok(finished) => tool_result(&finished),
            Err(message) => tool_error(&message),
        };
        Some(result_response(&call.id, result))
    }
}

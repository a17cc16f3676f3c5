//! `dcgm-sol mcp`: the verbs as Model Context Protocol tools for coding agents, over stdio —
//! newline-delimited JSON-RPC 2.0 on stdin/stdout, logs on stderr.
//!
//! Every tool call runs this binary as a child process (`--campaigns-dir DIR --json <verb>`),
//! so each call gets every check of the CLI, stdout stays the protocol's alone, and a failing
//! verb cannot take the server down. Calls run on their own threads (a ping is answered while a
//! correlate runs) and `notifications/cancelled` stops a call's process. Batches (JSON arrays)
//! are answered with one `-32600` error: MCP 2025-06-18 dropped them. At the end of stdin the
//! server finishes the calls in flight, sends their answers and exits.

mod child;
mod confine;
mod fields;
mod jsonrpc;
mod server;
mod tools;

use std::io::{self, BufRead, Write};
use std::sync::{Mutex, PoisonError};

use anyhow::anyhow;
use serde_json::Value;

use crate::cli::{GlobalArgs, McpArgs};
use crate::exit::{AppError, input, runtime};
use confine::CampaignsRoot;
use server::{Server, Step};

/// Serves MCP on stdin/stdout until stdin ends.
pub fn serve(global: &GlobalArgs, args: &McpArgs) -> Result<(), AppError> {
    let root = CampaignsRoot::open(&global.campaigns_dir).map_err(|e| input(anyhow!(e)))?;
    let exe = std::env::current_exe()
        .map_err(|e| runtime(anyhow!("cannot find this program to run the tools: {e}")))?;
    tracing::info!(
        "MCP server on stdio for {} ({})",
        root.path().display(),
        if args.read_only {
            "read-only"
        } else {
            "reads and writes"
        }
    );
    let server = Server::new(root, exe, global.ceilings.clone(), args.read_only);
    serve_lines(&server, io::stdin().lock(), io::stdout())
        .map_err(|e| runtime(anyhow!("reading the MCP messages on stdin: {e}")))
}

/// The message loop: one message per line in, one response per request out.
fn serve_lines(
    server: &Server,
    mut input: impl BufRead,
    output: impl Write + Send,
) -> io::Result<()> {
    let outbox = Outbox {
        output: Mutex::new(output),
    };
    std::thread::scope(|scope| {
        let mut line = Vec::new();
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            let Some(incoming) = jsonrpc::parse_bytes(&line) else {
                continue;
            };
            match server.step(incoming) {
                Step::Reply(response) => outbox.send(&response),
                Step::Call(call) => {
                    let outbox = &outbox;
                    scope.spawn(move || {
                        if let Some(response) = server.finish(&call) {
                            outbox.send(&response);
                        }
                    });
                }
                Step::Nothing => {}
            }
        }
    })
}

/// stdout, shared by the call threads: one whole line per message.
struct Outbox<W> {
    output: Mutex<W>,
}

impl<W: Write> Outbox<W> {
    fn send(&self, message: &Value) {
        // Compact JSON escapes every newline inside strings: the message is one line.
        let line = format!("{message}\n");
        let mut output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = output
            .write_all(line.as_bytes())
            .and_then(|()| output.flush())
        {
            tracing::error!("cannot write to the MCP client: {e}");
        }
    }
}

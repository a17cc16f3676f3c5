//! Running one tool call: this binary as a child process with the verb's `--json` flags. Its
//! stdout is the result, its stderr the CLI's message; a crash in a verb ends that process,
//! never the server. Calls in flight are kept by request id so a cancellation can stop them.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

use crate::exit::{INPUT_ERROR, RUNTIME_FAILURE};

/// What a verb's process left behind.
#[derive(Debug)]
pub struct Finished {
    /// How it ended.
    pub status: ExitStatus,
    /// Its stdout: the `--json` result.
    pub stdout: Vec<u8>,
    /// Its stderr: warnings and the error message.
    pub stderr: Vec<u8>,
}

/// A call in flight: its process once started, and whether the client cancelled it.
#[derive(Debug, Default)]
struct Slot {
    child: Option<Child>,
    cancelled: bool,
}

/// The calls in flight, by request id.
#[derive(Debug, Default)]
pub struct InFlight {
    calls: Mutex<HashMap<String, Slot>>,
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // A panicking holder cannot leave the map half-updated (each operation is one insert,
        // remove or flag), so a poisoned lock is still usable.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a call; false when a call with this id is already in flight.
    pub fn begin(&self, key: &str) -> bool {
        let mut calls = self.lock();
        if calls.contains_key(key) {
            return false;
        }
        calls.insert(key.to_string(), Slot::default());
        true
    }

    /// Stops a call's process (now, or as soon as it starts); its answer is dropped.
    pub fn cancel(&self, key: &str) {
        if let Some(slot) = self.lock().get_mut(key) {
            slot.cancelled = true;
            if let Some(child) = &mut slot.child {
                // Already exited is fine: the process is not reaped until `run` removes it.
                let _ = child.kill();
            }
        }
    }

    /// Runs `exe args` for the call `key` (registered with [`InFlight::begin`]). `None` when the
    /// call was cancelled.
    pub fn run(&self, key: &str, exe: &Path, args: &[String]) -> Option<Result<Finished, String>> {
        let spawned = Command::new(exe)
            .args(args)
            // The server's stdin is the MCP channel: a verb must never read it.
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("NO_COLOR", "1")
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let slot = self.lock().remove(key);
                return (!slot.is_some_and(|s| s.cancelled))
                    .then(|| Err(format!("cannot start {}: {e}", exe.display())));
            }
        };
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        {
            let mut calls = self.lock();
            let slot = calls.entry(key.to_string()).or_default();
            if slot.cancelled {
                let _ = child.kill();
            }
            slot.child = Some(child);
        }
        let (stdout, stderr) = read_both(stdout, stderr);
        // Removed before it is reaped, so `cancel` only ever signals our own unreaped process.
        let slot = self.lock().remove(key).unwrap_or_default();
        // invariant: the slot got its child above and only this function removes it.
        let Some(mut child) = slot.child else {
            return Some(Err("the call's process was lost".to_string()));
        };
        let status = child.wait();
        if slot.cancelled {
            return None;
        }
        Some(
            status
                .map(|status| Finished {
                    status,
                    stdout,
                    stderr,
                })
                .map_err(|e| format!("waiting for {}: {e}", exe.display())),
        )
    }
}

/// Reads both pipes to their end at once (one alone could fill and stall the process).
fn read_both(
    stdout: Option<impl Read + Send>,
    stderr: Option<impl Read + Send>,
) -> (Vec<u8>, Vec<u8>) {
    std::thread::scope(|scope| {
        let errors = scope.spawn(|| drain(stderr));
        let output = drain(stdout);
        (output, errors.join().unwrap_or_default())
    })
}

/// Everything a pipe delivers; a read error keeps what was read (the exit status tells the
/// rest).
fn drain(pipe: Option<impl Read>) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes);
    }
    bytes
}

/// The MCP `tools/call` result of a finished verb: exit 0 is the parsed JSON as
/// `structuredContent` (a list is wrapped as `{"cells": [...]}`: structured content is an
/// object) and as text; exit 1 or 2, or any other end, is a tool error carrying the CLI's
/// message. Warnings on stderr travel as a second text item.
pub fn tool_result(finished: &Finished) -> Value {
    let stdout = String::from_utf8_lossy(&finished.stdout);
    let stderr = String::from_utf8_lossy(&finished.stderr);
    let stderr = stderr.trim();
    if finished.status.success() {
        return match serde_json::from_str::<Value>(&stdout) {
            Ok(value) => {
                let structured = match value {
                    Value::Array(cells) => json!({"cells": cells}),
                    other => other,
                };
                let mut content = vec![text(&structured.to_string())];
                if !stderr.is_empty() {
                    content.push(text(&format!("dcgm-sol log:\n{stderr}")));
                }
                json!({"content": content, "structuredContent": structured, "isError": false})
            }
            Err(e) => tool_error(&format!(
                "dcgm-sol succeeded but printed no JSON result ({e}): {stdout}{stderr}"
            )),
        };
    }
    let why = match finished.status.code() {
        Some(code) if code == i32::from(INPUT_ERROR) => "input error (exit 2)".to_string(),
        Some(code) if code == i32::from(RUNTIME_FAILURE) => "runtime failure (exit 1)".to_string(),
        _ => format!("dcgm-sol ended abnormally ({})", finished.status),
    };
    let mut message = format!("{why}: {stderr}");
    if !stdout.trim().is_empty() {
        message.push_str(&format!(
            "\nresult printed before the failure:\n{}",
            stdout.trim()
        ));
    }
    tool_error(&message)
}

/// A tool error: the agent sees the message and can act on it.
pub fn tool_error(message: &str) -> Value {
    json!({"content": [text(message)], "isError": true})
}

fn text(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn finished(code: i32, stdout: &str, stderr: &str) -> Finished {
        Finished {
            // A wait status carries the exit code in its second byte.
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    #[test]
    fn success_is_structured_content_and_its_text() {
        let result = tool_result(&finished(0, "{\n  \"a\": 1\n}\n", ""));
        assert_eq!(result["isError"], false);
        assert_eq!(result["structuredContent"], json!({"a": 1}));
        assert_eq!(
            result["content"],
            json!([{"type": "text", "text": "{\"a\":1}"}])
        );
        // A list (correlate --all-cells) becomes an object; warnings ride along.
        let result = tool_result(&finished(0, "[1, 2]", " WARN x\n"));
        assert_eq!(result["structuredContent"], json!({"cells": [1, 2]}));
        assert_eq!(result["content"][1]["text"], "dcgm-sol log:\nWARN x");
    }

    #[test]
    fn failures_are_tool_errors_with_the_cli_message() {
        let result = tool_result(&finished(2, "", "dcgm-sol: error: no such cell\n"));
        assert_eq!(result["isError"], true);
        assert_eq!(
            result["content"][0]["text"],
            "input error (exit 2): dcgm-sol: error: no such cell"
        );
        // probe prints its report before refusing: both reach the agent.
        let result = tool_result(&finished(1, "{\"series_total\": 9}", "too many"));
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(
            text.starts_with("runtime failure (exit 1): too many"),
            "{text}"
        );
        assert!(text.contains("\"series_total\": 9"), "{text}");
        // Success without JSON is not a result.
        assert_eq!(tool_result(&finished(0, "table", ""))["isError"], true);
        let killed = Finished {
            status: ExitStatus::from_raw(9),
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        let text = tool_result(&killed)["content"][0]["text"].clone();
        assert!(text.as_str().unwrap().contains("abnormally"), "{text}");
    }
}

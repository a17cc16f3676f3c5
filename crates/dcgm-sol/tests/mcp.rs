//! `dcgm-sol mcp` driven as an agent client drives it: spawn the server, write JSON-RPC lines to
//! its stdin, read JSON lines from its stdout. Covers the handshake, the tool listing, a call of
//! every tool on the example campaign (README figures: c128 HBM %SoL 69.7 against
//! h200_sxm.hbm3e_tbps) and against a real Prometheus, confinement to the campaigns directory,
//! and malformed requests, after which the server still answers.

#[allow(dead_code)]
mod backends;
mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use backends::Backend;
use backends::run::assert_pct;
use backends::scenario::{
    Exporter, Gpu, Load, PROF_LEGACY, Scenario, WINDOW_END_S, WINDOW_START_S,
};
use common::{Scratch, assert_close, row};
use serde_json::{Value, json};

const CAMPAIGN: &str = "h200-tp8-sweep";
/// Longest wait for one answer (a correlate of four cells takes about a second).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// A running server and the client end of its pipes.
struct Client {
    server: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    next_id: u64,
}

impl Client {
    /// `dcgm-sol --campaigns-dir <dir> mcp <extra>` with a fixed environment.
    fn start(campaigns_dir: &Path, extra: &[&str]) -> Client {
        let mut server = Command::new(env!("CARGO_BIN_EXE_dcgm-sol"))
            .arg("--campaigns-dir")
            .arg(campaigns_dir)
            .arg("mcp")
            .args(extra)
            .env_remove("SOL_CEILINGS_YAML")
            .env_remove("SOL_CAMPAIGNS_DIR")
            .env_remove("PROMETHEUS_URL")
            .env_remove("PROMETHEUS_BEARER_TOKEN")
            .env("TZ", "UTC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dcgm-sol mcp");
        let stdout = server.stdout.take().expect("stdout");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Client {
            stdin: server.stdin.take(),
            server,
            lines,
            next_id: 0,
        }
    }

    /// Writes one raw line.
    fn send_line(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line).expect("write to the server");
        stdin.write_all(b"\n").expect("write to the server");
        stdin.flush().expect("flush");
    }

    /// The next line the server writes, as JSON (every line must be JSON).
    fn receive(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(ANSWER_TIMEOUT)
            .expect("the server answers in time");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// Sends a request and returns its response.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_line(message.to_string().as_bytes());
        let response = self.receive();
        assert_eq!(response["jsonrpc"], "2.0", "{response}");
        assert_eq!(
            response["id"], id,
            "answers arrive in order here: {response}"
        );
        response
    }

    /// A tools/call that must succeed: its structured content.
    fn call_ok(&mut self, tool: &str, arguments: Value) -> Value {
        let response = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let result = &response["result"];
        assert_eq!(result["isError"], false, "{tool} failed: {response:#}");
        // The same JSON as text, for clients without structured content.
        let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap())
            .expect("text content is the JSON");
        assert_eq!(text, result["structuredContent"], "{tool}");
        result["structuredContent"].clone()
    }

    /// A tools/call that must fail as a tool: its message.
    fn call_refused(&mut self, tool: &str, arguments: Value) -> String {
        let response = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        assert_eq!(response["result"]["isError"], true, "{tool}: {response:#}");
        response["result"]["content"][0]["text"]
            .as_str()
            .expect("a text message")
            .to_string()
    }

    /// The JSON-RPC error code of a request that must fail as one.
    fn error_code(&mut self, method: &str, params: Value) -> i64 {
        let response = self.request(method, params);
        error_of(&response)
    }

    fn initialize(&mut self) -> Value {
        let response = self.request(
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "mcp-test", "version": "1"},
            }),
        );
        self.send_line(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        response["result"].clone()
    }

    /// Closes stdin and checks the server exits cleanly.
    fn close(mut self) {
        drop(self.stdin.take());
        let status = self.server.wait().expect("wait for the server");
        assert!(
            status.success(),
            "the server exits 0 at the end of stdin: {status}"
        );
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn error_of(response: &Value) -> i64 {
    assert!(response.get("result").is_none(), "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "an error says what was wrong: {response}"
    );
    response["error"]["code"].as_i64().expect("an error code")
}

fn tools_by_name(client: &mut Client) -> Vec<Value> {
    client.request("tools/list", json!({}))["result"]["tools"]
        .as_array()
        .expect("a tool list")
        .clone()
}

const JSON_SCHEMA_TYPES: [&str; 7] = [
    "string", "integer", "number", "boolean", "array", "object", "null",
];

/// The input schema is a JSON Schema object: typed properties, closed, required ones listed.
fn check_input_schema(name: &str, schema: &Value) {
    assert_eq!(schema["type"], "object", "{name}");
    assert_eq!(schema["additionalProperties"], false, "{name}");
    let properties = schema["properties"].as_object().expect("properties");
    assert!(!properties.is_empty(), "{name}");
    for (property, spec) in properties {
        let kind = spec["type"].as_str().expect("a type");
        assert!(
            JSON_SCHEMA_TYPES.contains(&kind),
            "{name}.{property}: {kind}"
        );
        assert!(spec["description"].is_string(), "{name}.{property}");
        if kind == "array" {
            assert_eq!(spec["items"]["type"], "string", "{name}.{property}");
        }
        if let Some(values) = spec.get("enum") {
            assert!(values.as_array().is_some_and(|v| !v.is_empty()), "{name}");
        }
    }
    if let Some(required) = schema.get("required") {
        for field in required.as_array().expect("required is a list") {
            let field = field.as_str().expect("a name");
            assert!(properties.contains_key(field), "{name}: required {field}");
        }
    }
}

#[test]
fn handshake_and_listing() {
    let scratch = Scratch::with_example();
    let mut client = Client::start(scratch.path(), &[]);
    let init = client.initialize();
    assert_eq!(init["protocolVersion"], "2025-06-18");
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    assert_eq!(init["serverInfo"]["name"], "dcgm-sol");
    // An older version we speak is echoed; one we do not gets our newest.
    for (asked, answered) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("1999-01-01", "2025-06-18"),
    ] {
        let response = client.request("initialize", json!({"protocolVersion": asked}));
        assert_eq!(response["result"]["protocolVersion"], answered, "{asked}");
    }

    let tools = tools_by_name(&mut client);
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "ceilings",
            "probe",
            "plan",
            "correlate",
            "fold",
            "render",
            "summary",
            "publish"
        ]
    );
    let reads = ["ceilings", "probe", "plan"];
    let reaches_a_server = ["probe", "correlate"];
    for tool in &tools {
        let name = tool["name"].as_str().unwrap();
        check_input_schema(name, &tool["inputSchema"]);
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
        let hints = &tool["annotations"];
        for hint in [
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        ] {
            assert!(hints[hint].is_boolean(), "{name}: {hint}");
        }
        let read_only = reads.contains(&name);
        assert_eq!(hints["readOnlyHint"], read_only, "{name}");
        assert_eq!(
            hints["openWorldHint"],
            reaches_a_server.contains(&name),
            "{name}"
        );
        let description = tool["description"].as_str().unwrap();
        let prefix = if read_only {
            "Reads only: "
        } else {
            "Writes: "
        };
        assert!(description.starts_with(prefix), "{name}: {description}");
    }
    // The probe-before-query rule is stated where it applies.
    for name in ["probe", "correlate"] {
        let tool = tools.iter().find(|t| t["name"] == name).unwrap();
        assert!(
            tool["description"].as_str().unwrap().contains("probe"),
            "{name}"
        );
    }
    let publish = tools.iter().find(|t| t["name"] == "publish").unwrap();
    assert_eq!(
        publish["inputSchema"]["properties"]["if_exists"]["enum"],
        json!(["error", "overwrite", "append"])
    );
    assert_eq!(publish["inputSchema"]["required"], json!(["campaign"]));
    client.close();
}

#[test]
fn a_read_only_server_offers_only_the_reading_tools() {
    let scratch = Scratch::with_example();
    let mut client = Client::start(scratch.path(), &["--read-only"]);
    client.initialize();
    let names: Vec<String> = tools_by_name(&mut client)
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["ceilings", "probe", "plan"]);
    let code = client.error_code(
        "tools/call",
        json!({"name": "correlate", "arguments": {"campaign": CAMPAIGN, "all_cells": true}}),
    );
    assert_eq!(code, -32602, "a writing tool is unknown here");
    assert!(
        !scratch
            .cell(CAMPAIGN, "c128")
            .join("dcgm_correlation.json")
            .exists()
    );
    client.close();
}

#[test]
fn every_tool_on_the_example_campaign() {
    let scratch = Scratch::with_example();
    let mut client = Client::start(scratch.path(), &[]);
    client.initialize();
    let result_file = scratch.cell(CAMPAIGN, "c128").join("dcgm_correlation.json");

    // ceilings: the H200 row's HBM3e peak is 4.8 TB/s (NVIDIA H200 datasheet).
    let list = client.call_ok("ceilings", json!({}));
    assert!(
        list["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == "h200_sxm"),
        "the list holds h200_sxm"
    );
    let h200 = client.call_ok("ceilings", json!({"key": "h200_sxm"}));
    let hbm = h200["peaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "hbm3e_tbps")
        .expect("an hbm3e_tbps peak");
    assert_eq!(hbm["value"], 4.8);
    assert_eq!(hbm["units"], "TB/s");

    // plan: the dry run reads the bench file (c128: TP 8 → 8 GPUs) and sends nothing, writes
    // nothing.
    let plan = client.call_ok("plan", json!({"campaign": CAMPAIGN, "cell_id": "c128"}));
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["hw_key"], "h200_sxm");
    assert_eq!(plan["expected_gpus"][0], 8);
    let promql: Vec<&str> = plan["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["promql"].as_str().unwrap())
        .collect();
    assert!(
        promql
            .iter()
            .any(|q| q.starts_with("DCGM_FI_PROF_DRAM_ACTIVE[")),
        "{promql:?}"
    );
    assert!(
        !result_file.exists(),
        "plan wrote {}",
        result_file.display()
    );

    // correlate from the cell's recorded scrapes, named explicitly (relative to the campaigns
    // directory): README's c128 figures.
    let result = client.call_ok(
        "correlate",
        json!({
            "campaign": CAMPAIGN,
            "cell_id": "c128",
            "scrapes": format!("{CAMPAIGN}/cells/c128/dcgm-scrapes.prom"),
        }),
    );
    check_c128(&result);
    assert!(result_file.is_file(), "correlate writes the cell's result");

    // correlate every cell (c032's vLLM file stores naive local time: UTC).
    let all = client.call_ok(
        "correlate",
        json!({"campaign": CAMPAIGN, "all_cells": true, "timezone": "UTC"}),
    );
    let cells = all["cells"].as_array().expect("one entry per cell");
    let ids: Vec<&str> = cells
        .iter()
        .map(|c| c["cell_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c008", "c032", "c064", "c128"]);
    assert!(cells.iter().all(|c| c["ok"] == true), "{all:#}");
    check_c128(&cells[3]["result"]);

    // fold: the frozen snapshot correlate wrote gives the same figures back.
    fs::remove_file(&result_file).unwrap();
    let folded = client.call_ok(
        "fold",
        json!({
            "campaign": CAMPAIGN,
            "cell_id": "c128",
            "frozen_yaml": format!("{CAMPAIGN}/cells/c128/dcgm-frozen.yaml"),
        }),
    );
    check_c128(&folded);
    assert!(result_file.is_file(), "fold writes the cell's result");

    // render: four cells with results.
    let status = client.call_ok("render", json!({"campaign": CAMPAIGN}));
    assert_eq!(status["cells_total"], 4);
    assert_eq!(status["cells_with_result"], 4);
    assert_eq!(status["dcgm_grounded"], true);
    assert!(
        scratch
            .path()
            .join(CAMPAIGN)
            .join("report/index.html")
            .is_file()
    );

    // summary: the table names the ceiling key of each figure.
    let summary = client.call_ok("summary", json!({"campaign": CAMPAIGN}));
    assert_eq!(summary["status"], "created");
    assert_eq!(summary["cells"], 4);
    let table = fs::read_to_string(scratch.path().join(CAMPAIGN).join("sol-summary.md")).unwrap();
    assert!(table.contains("h200_sxm.hbm3e_tbps"), "{table}");
    let again = client.call_ok("summary", json!({"campaign": CAMPAIGN}));
    assert_eq!(again["status"], "unchanged");

    // publish: into <campaigns dir>/lake by default; 4 cells × 4 resources = 16 rows.
    let published = client.call_ok("publish", json!({"campaign": CAMPAIGN}));
    assert_eq!(published["cells_published"], 4);
    assert_eq!(published["cell_resource_rows"], 16);
    let lake = scratch.path().canonicalize().unwrap().join("lake");
    for file in published["files"].as_array().unwrap() {
        let file = Path::new(file.as_str().unwrap());
        assert!(
            file.starts_with(&lake),
            "{} outside {}",
            file.display(),
            lake.display()
        );
        assert!(file.is_file(), "{}", file.display());
    }
    // Again: the partition exists, so the default refuses (the CLI's message), overwrite
    // replaces it.
    let refused = client.call_refused("publish", json!({"campaign": CAMPAIGN}));
    assert!(refused.contains("exit 1"), "{refused}");
    assert!(refused.contains("exists"), "{refused}");
    let replaced = client.call_ok(
        "publish",
        json!({"campaign": CAMPAIGN, "if_exists": "overwrite", "lake": "lake"}),
    );
    assert_eq!(
        replaced["replaced"].as_array().unwrap().len(),
        2,
        "{replaced:#}"
    );
    client.close();
}

/// README (c128): HBM 69.7 % of h200_sxm.hbm3e_tbps, 8 GPUs, concurrency 128; the result
/// carries the context descriptor and the next-lever frontier.
fn check_c128(result: &Value) {
    assert_eq!(result["cell_id"], "c128");
    let hbm = row(result, "hbm");
    assert_close(
        hbm["sol_pct"].as_f64().unwrap(),
        69.7,
        0.05,
        "c128 HBM %SoL",
    );
    assert_eq!(hbm["ceiling"], "h200_sxm.hbm3e_tbps");
    for resource in result["resources"].as_array().unwrap() {
        assert!(
            resource["ceiling"]
                .as_str()
                .is_some_and(|c| c.starts_with("h200_sxm.")),
            "every %SoL names its ceiling: {resource}"
        );
    }
    assert_eq!(result["n_gpus"], 8);
    assert_eq!(result["context"]["concurrency"], 128);
    assert_eq!(
        result["context"]["model"],
        "meta-llama/Llama-3.3-70B-Instruct"
    );
    assert_eq!(result["next_lever"]["bounding_resource"], "hbm");
    assert!(
        result["next_lever"]["frontier"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "a frontier of levers"
    );
}

#[test]
fn paths_outside_the_campaigns_dir_are_refused() {
    let scratch = Scratch::with_example();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("scrapes.prom"), "").unwrap();
    std::os::unix::fs::symlink(outside.path(), scratch.path().join("escape")).unwrap();
    let mut client = Client::start(scratch.path(), &[]);
    client.initialize();
    let cases = [
        (
            "correlate",
            json!({"campaign": CAMPAIGN, "cell_id": "c128",
                   "scrapes": outside.path().join("scrapes.prom")}),
        ),
        (
            "correlate",
            json!({"campaign": CAMPAIGN, "cell_id": "c128", "bench_file": "../x.json"}),
        ),
        (
            "probe",
            json!({"scrapes": "/etc/passwd", "start": "1", "end": "2"}),
        ),
        (
            "fold",
            json!({"campaign": CAMPAIGN, "cell_id": "c128", "frozen_yaml": "/etc/hosts"}),
        ),
        ("publish", json!({"campaign": CAMPAIGN, "lake": "../lake"})),
        (
            "publish",
            json!({"campaign": CAMPAIGN, "lake": "escape/lake"}),
        ),
        ("ceilings", json!({"ceilings": "/etc/hostname"})),
    ];
    for (tool, arguments) in cases {
        let message = client.call_refused(tool, arguments.clone());
        assert!(
            message.contains("outside the campaigns directory"),
            "{tool} {arguments}: {message}"
        );
    }
    assert!(
        !outside.path().join("lake").exists(),
        "nothing written through the symlink"
    );
    assert!(!scratch.path().parent().unwrap().join("lake").exists());
    assert!(
        !scratch
            .cell(CAMPAIGN, "c128")
            .join("dcgm_correlation.json")
            .exists()
    );
    client.close();
}

#[test]
fn failing_verbs_are_tool_errors_with_the_cli_message() {
    let scratch = Scratch::with_example();
    let mut client = Client::start(scratch.path(), &[]);
    client.initialize();
    let message = client.call_refused("correlate", json!({"campaign": "nope", "cell_id": "c1"}));
    assert!(message.starts_with("input error (exit 2)"), "{message}");
    assert!(
        message.contains("nope") && message.contains("does not exist"),
        "{message}"
    );
    let message = client.call_refused("correlate", json!({"campaign": CAMPAIGN}));
    assert!(
        message.contains("give --cell-id ID or --all-cells"),
        "{message}"
    );
    let message = client.call_refused("summary", json!({"campaign": CAMPAIGN}));
    assert!(message.starts_with("runtime failure (exit 1)"), "{message}");
    assert!(
        message.contains("no cell has a usable dcgm_correlation.json"),
        "{message}"
    );
    // A slug that tries to leave the campaigns directory is refused by the CLI's own check.
    let message = client.call_refused("render", json!({"campaign": ".."}));
    assert!(message.contains("input error (exit 2)"), "{message}");
    client.close();
}

#[test]
fn malformed_requests_get_json_rpc_errors_and_the_server_goes_on() {
    let scratch = Scratch::with_example();
    let mut client = Client::start(scratch.path(), &[]);
    client.initialize();
    let raw = |client: &mut Client, line: &[u8]| {
        client.send_line(line);
        let response = client.receive();
        (response["id"].clone(), error_of(&response))
    };
    assert_eq!(
        raw(&mut client, b"{\"jsonrpc\": \"2.0\", "),
        (Value::Null, -32700)
    );
    assert_eq!(
        raw(&mut client, b"\xff\xfe not utf-8"),
        (Value::Null, -32700)
    );
    assert_eq!(
        raw(
            &mut client,
            br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#
        ),
        (Value::Null, -32600)
    );
    assert_eq!(raw(&mut client, br#""ping""#), (Value::Null, -32600));
    assert_eq!(
        raw(
            &mut client,
            br#"{"jsonrpc":"1.0","id":"a","method":"ping"}"#
        ),
        (json!("a"), -32600)
    );
    assert_eq!(
        raw(
            &mut client,
            br#"{"jsonrpc":"2.0","id":{"n":1},"method":"ping"}"#
        ),
        (Value::Null, -32600)
    );
    // A notification is never answered, not even an unknown one: the next answer is the ping's.
    client.send_line(br#"{"jsonrpc":"2.0","method":"notifications/whatever"}"#);
    assert_eq!(client.request("ping", json!({}))["result"], json!({}));

    assert_eq!(client.error_code("resources/list", json!({})), -32601);
    assert_eq!(
        client.error_code("initialize", json!({})),
        -32602,
        "no protocolVersion"
    );
    let response = {
        client.send_line(br#"{"jsonrpc":"2.0","id":"no-params","method":"tools/call"}"#);
        client.receive()
    };
    assert_eq!(
        (response["id"].clone(), error_of(&response)),
        (json!("no-params"), -32602)
    );
    for params in [
        json!("ceilings"),
        json!({"arguments": {}}),
        json!({"name": 42}),
        json!({"name": "no-such-tool"}),
        json!({"name": "correlate", "arguments": "campaign"}),
        json!({"name": "correlate", "arguments": {"campaign": 5}}),
        json!({"name": "correlate", "arguments": {"campaign": CAMPAIGN, "n_gpus": "8"}}),
        json!({"name": "correlate", "arguments": {"campaign": CAMPAIGN, "n_gpus": 0}}),
        json!({"name": "correlate", "arguments": {"campaign": CAMPAIGN, "all_cells": "yes"}}),
        json!({"name": "correlate", "arguments": {"campaign": CAMPAIGN, "host": "a"}}),
        json!({"name": "correlate", "arguments": {"campaign": CAMPAIGN, "max-series": 3}}),
        json!({"name": "publish", "arguments": {"campaign": CAMPAIGN, "if_exists": "replace"}}),
        json!({"name": "fold", "arguments": {"campaign": CAMPAIGN, "cell_id": "c128"}}),
    ] {
        assert_eq!(
            client.error_code("tools/call", params.clone()),
            -32602,
            "{params}"
        );
    }
    assert_eq!(client.request("ping", json!({}))["result"], json!({}));
    assert!(
        !scratch
            .cell(CAMPAIGN, "c128")
            .join("dcgm_correlation.json")
            .exists()
    );
    client.close();
}

#[test]
fn a_cancelled_call_is_stopped_and_pings_are_answered_meanwhile() {
    // A "Prometheus" that accepts connections and never answers: the probe would wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().collect();
        drop(held);
    });
    let scratch = Scratch::with_example();
    let mut client = Client::start(scratch.path(), &[]);
    client.initialize();
    let call = json!({"jsonrpc": "2.0", "id": "slow", "method": "tools/call", "params": {
        "name": "probe",
        "arguments": {"prometheus": url, "start": "1790000000", "end": "1790000180", "timeout_s": 600},
    }});
    client.send_line(call.to_string().as_bytes());
    // The call runs on its own: a ping is answered meanwhile.
    assert_eq!(client.request("ping", json!({}))["result"], json!({}));
    client.send_line(
        br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow","reason":"test"}}"#,
    );
    assert_eq!(client.request("ping", json!({}))["result"], json!({}));
    // At the end of stdin the server waits for calls in flight: it exits at once only because
    // the cancelled call's process was stopped; and the cancelled call is never answered.
    drop(client.stdin.take());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = client.server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server still waits for the cancelled call"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    // The server has exited, so its stdout ends and the reader's channel closes.
    let left: Vec<String> = client.lines.iter().collect();
    assert!(
        left.is_empty(),
        "a cancelled call is not answered: {left:?}"
    );
}

// ------------------------------------------------------------------- a real Prometheus

/// Two GPUs of one host, loads g = 0 and 1, under the legacy PROF exporter (11 fields each).
fn two_gpus() -> (Scenario, [Gpu; 2]) {
    let gpus = [0, 1].map(|g| Gpu {
        host: "ip-100-64-171-120.ec2.internal",
        index: g,
        uuid: [
            "GPU-22dbdd79-f55a-92a8-aa39-322198e72ed6",
            "GPU-289275cb-a907-ab73-9a95-058ae119f62d",
        ][g as usize],
        load: Load { g },
    });
    let mut scenario = Scenario::default();
    for gpu in &gpus {
        scenario.exporter(PROF_LEGACY, gpu.load, |_| {
            Some(gpu.labels(Exporter::Legacy))
        });
    }
    (scenario, gpus)
}

#[test]
fn probe_and_correlate_against_a_real_prometheus() {
    let (scenario, gpus) = two_gpus();
    let Some(prometheus) = Backend::Prometheus.start(&scenario) else {
        return;
    };
    let scratch = Scratch::with_example();
    let mut client = Client::start(scratch.path(), &[]);
    client.initialize();
    let window = json!({
        "prometheus": prometheus.url(),
        "start": WINDOW_START_S.to_string(),
        "end": WINDOW_END_S.to_string(),
    });
    let with = |extra: Value| {
        let mut arguments = window.clone();
        for (k, v) in extra.as_object().unwrap() {
            arguments[k] = v.clone();
        }
        arguments
    };

    // probe: 11 fields × 2 GPUs = 22 series, all PROF.
    let probe = client.call_ok("probe", window.clone());
    assert_eq!(probe["series_total"], 22);
    assert_eq!(probe["gpus"], 2);
    let uuids: Vec<&str> = gpus.iter().map(|g| g.uuid).collect();
    assert_eq!(probe["gpu_uuids"], json!(uuids));
    let hbm_tier = probe["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "hbm")
        .unwrap()["tier"]
        .clone();
    assert_eq!(hbm_tier, "prof");
    // Above max_series the probe refuses, naming the count and the way out.
    let refused = client.call_refused("probe", with(json!({"max_series": 3})));
    assert!(
        refused.contains("22") && refused.contains("force"),
        "{refused}"
    );
    let forced = client.call_ok("probe", with(json!({"max_series": 3, "force": true})));
    assert_eq!(forced["over_limit"], true);

    // correlate cell c128 over the scenario window against the H100 row (the GPUs' own), BF16
    // dense peak. backends/scenario.rs gives each GPU's window means; with g = 0 and 1:
    // HBM DRAM_ACTIVE (0.455 + 0.465)/2 = 0.46 → 46 %; tensor 0.9 × (0.35 + 0.36)/2 = 0.3195 →
    // 31.95 %; NVLink (180e9 + 198e9)/2 = 189e9 B/s of 900e9 → 21 %; PCIe (9.6e9 + 10.88e9)/2 =
    // 10.24e9 of 128e9 → 8 %.
    let result = client.call_ok(
        "correlate",
        with(json!({
            "campaign": CAMPAIGN,
            "cell_id": "c128",
            "hw_key": "h100_sxm",
            "tensor_peak": "bf16_dense_pflops",
            "n_gpus": 2,
        })),
    );
    for (resource, expected) in [
        ("hbm", 46.0),
        ("tensor", 31.95),
        ("nvlink", 21.0),
        ("pcie", 8.0),
    ] {
        assert_pct(&row(&result, resource)["sol_pct"], expected, resource);
    }
    assert_eq!(row(&result, "hbm")["ceiling"], "h100_sxm.hbm3_tbps");
    // Probe before query: the series listing is the first request recorded.
    assert_eq!(
        result["queries"][0]["unit"], "series_listing",
        "{:#}",
        result["queries"]
    );
    assert!(
        scratch
            .cell(CAMPAIGN, "c128")
            .join("dcgm_correlation.json")
            .is_file()
    );
    client.close();
}

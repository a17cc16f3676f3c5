//! `dcgm-sol`: workload speed-of-light from DCGM exporter metrics. The binary only parses flags,
//! wires the edges (`sol-io`) to the core (`sol-core`), prints and sets the exit code.

mod cli;
mod commands;
mod exit;
mod inputs;
mod mcp;
mod output;
mod pipeline;
mod recorder;
mod sources;
mod split;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_logging(args.global.verbose, args.global.quiet);
    match commands::dispatch(&args) {
        Ok(code) => code,
        Err(error) => {
            output::print_error(&error);
            error.exit_code()
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DCGM_SOL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

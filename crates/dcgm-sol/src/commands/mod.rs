//! One module per verb.

mod ceilings;
mod correlate;
mod fold;
mod probe;
mod publish;
mod record;
mod render;
mod summary;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::exit::AppError;

/// Runs the verb; the exit code on success is 0 except for `record`, which passes on its
/// command's.
pub fn dispatch(cli: &Cli) -> Result<ExitCode, AppError> {
    let done = match &cli.command {
        Command::Ceilings(args) => ceilings::run(&cli.global, args),
        Command::Probe(args) => probe::run(&cli.global, args),
        Command::Correlate(args) => correlate::run(&cli.global, args),
        Command::Fold(args) => fold::run(&cli.global, args),
        Command::Render(args) => render::run(&cli.global, args),
        Command::Summary(args) => summary::run(&cli.global, args),
        Command::Publish(args) => publish::run(&cli.global, args),
        Command::Record(args) => return record::run(&cli.global, args),
        Command::Mcp(args) => crate::mcp::serve(&cli.global, args),
    };
    done.map(|()| ExitCode::SUCCESS)
}

//! `aesthetix`: the one binary (SPEC §13.1). Each command is a thin layer over the library
//! crates; errors become one plain sentence on stderr and exit status 1, usage errors are
//! clap's (status 2).

mod cli;
mod export_cmd;
mod import_cmd;
mod jobs_cmd;
mod migrate_cmd;
mod revert_cmd;
mod split_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

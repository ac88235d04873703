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
    // Before any HTTPS client (the S3 file store) is built.
    filestore::install_tls_provider();
    harden_process();
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

/// What the process sets up before anything else (SPEC §13.2):
/// - files and directories it creates are its owner's alone (umask 077: the database, its
///   journal files, uploads, exports and error logs hold patient data);
/// - it may hold as many open files as the system allows it (the soft limit raised to the
///   hard one), so thousands of slow connections cannot starve the others of descriptors
///   before their deadlines close them.
fn harden_process() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
}

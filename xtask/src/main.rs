//! Workspace automation for waweb, run as `cargo xtask <task>` (alias in `.cargo/config.toml`).
//!
//! Tasks:
//! - `protos`: regenerate the checked-in Rust code of `crates/waweb-proto/src/generated/` from the
//!   schema in `proto/`, with prost-build and protox (no `protoc` needed).
//! - `protos --check`: regenerate in memory and fail when a checked-in file differs (CI runs this).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod protos;

/// Command line of `cargo xtask`.
#[derive(Debug, Parser)]
#[command(name = "xtask", about = "waweb workspace tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

/// One task.
#[derive(Debug, Subcommand)]
enum Task {
    /// Regenerate crates/waweb-proto/src/generated/ from proto/.
    Protos {
        /// Do not write: exit non-zero when the checked-in code is stale.
        #[arg(long)]
        check: bool,
        /// Workspace root to work in (default: the workspace this xtask belongs to).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Protos { check, root } => {
            let root = root.unwrap_or_else(protos::workspace_root);
            protos::run(&root, check)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

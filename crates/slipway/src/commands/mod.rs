//! One module per command. Each parses nothing itself (clap did), calls the
//! library crates, and hands back a value for `output` to render.

pub mod build;
pub mod ci;
pub mod deploy;
pub mod deployed;
pub mod init;
pub mod local;
pub mod scan;
pub mod sign;
pub mod verify;

use crate::cli::Command;
use crate::context::Context;
use crate::output::{Failure, Status};

pub fn run(ctx: &Context, command: Command) -> Result<Status, Failure> {
    crate::sam::check_command(ctx, &command)?;
    match command {
        Command::Init(args) => init::run(ctx, args),
        Command::Build(args) => build::run(ctx, args),
        Command::Scan(args) => scan::run(ctx, args),
        Command::Db(cmd) => scan::run_db(ctx, cmd),
        Command::Sign(args) => sign::run(ctx, args),
        Command::Verify(args) => verify::run(ctx, args),
        Command::Keygen(args) => sign::run_keygen(ctx, args),
        Command::Deploy(args) => deploy::run(ctx, args),
        Command::Promote(args) => deploy::run_promote(ctx, args),
        Command::Rollback(args) => deploy::run_rollback(ctx, args),
        Command::Drift(args) => deploy::run_drift(ctx, args),
        Command::Remove(args) => deploy::run_remove(ctx, args),
        Command::Invoke(args) => local::run_invoke(ctx, args),
        Command::Serve(args) => local::run_serve(ctx, args),
        Command::Event(args) => local::run_event(ctx, args),
        Command::Ci(cmd) => ci::run(ctx, cmd),
        Command::Plan(args) => build::run_plan(ctx, args),
    }
}

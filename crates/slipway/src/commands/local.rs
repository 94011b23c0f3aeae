//! `slipway invoke`, `serve` and `event`: running functions on this machine.

use clap::Args;

use crate::context::Context;
use crate::output::{Failure, Status};

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The function to run
    pub function: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Functions to serve [default: all in slipway.toml]
    pub functions: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EventArgs {
    /// The event type
    pub kind: String,
}

pub fn run_invoke(_ctx: &Context, _args: InvokeArgs) -> Result<Status, Failure> {
    Err(super::not_available("invoke", "local runtime"))
}

pub fn run_serve(_ctx: &Context, _args: ServeArgs) -> Result<Status, Failure> {
    Err(super::not_available("serve", "local runtime"))
}

pub fn run_event(_ctx: &Context, _args: EventArgs) -> Result<Status, Failure> {
    Err(super::not_available("event", "local runtime"))
}

//! `slipway sign` and `slipway keygen`.

use clap::Args;

use crate::context::Context;
use crate::output::{Failure, Status};

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Functions to sign [default: all in slipway.toml]
    pub functions: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {}

pub fn run(_ctx: &Context, _args: SignArgs) -> Result<Status, Failure> {
    Err(super::not_available("sign", "signing"))
}

pub fn run_keygen(_ctx: &Context, _args: KeygenArgs) -> Result<Status, Failure> {
    Err(super::not_available("keygen", "signing"))
}

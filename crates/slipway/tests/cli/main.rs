//! End-to-end tests of the `slipway` binary, one module per area. They share
//! one test binary so the workspace links it once.

mod support;

mod build;
mod dependencies;
mod deploy;
mod evidence;
mod init;
mod local;
mod scan;

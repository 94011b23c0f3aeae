//! End-to-end tests of the `slipway` binary, one module per area. They share
//! one test binary so the workspace links it once.

mod support;

mod build;
mod evidence;
mod init;
mod dependencies;
mod scan;
mod local;
mod deploy;

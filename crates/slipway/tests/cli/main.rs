//! End-to-end tests of the `slipway` binary, one module per area. They share
//! one test binary so the workspace links it once.

/// The official SBOM schemas as validators, shared with slipway-sbom's tests.
use slipway_test_support::schemas as sbom_schemas;
mod support;
/// A moto server, a fault-injecting proxy and slipway set up for it.
mod support_aws;

mod build;
mod dependencies;
mod deploy;
mod engine;
mod evidence;
mod gitlab;
mod hardening;
mod init;
mod local;
mod messages;
mod native;
mod node;
mod reference;
mod sam;
mod scan;
mod terraform;

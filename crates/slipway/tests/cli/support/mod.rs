//! The shared fixtures (slipway-test-support), under the name the CLI's test
//! modules use.

pub use slipway_test_support::{
    GIT_COMMIT_TIME, Project, assert_ok, build_json, command_json, git, json_stdout, manifest,
    process, run, slipway, succeed,
};

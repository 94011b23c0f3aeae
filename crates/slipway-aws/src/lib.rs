//! Deploying built artifacts to AWS Lambda and proving what runs: create or
//! update functions, versions and aliases, reconcile triggers, sign code with
//! AWS Signer, compare the live state with the desired one (`verify
//! --deployed`, `drift`), and remove functions.
//!
//! Everything here returns values; the binary prints them.

mod artifact;
mod connect;
mod deploy;
mod drift;
mod error;
mod layers;
pub mod live;
mod record;
mod remove;
mod retry;
mod roles;
mod settings;
mod signing;
mod stack;
mod triggers;

pub use artifact::Artifact;
pub use connect::{Aws, ConnectOptions, connect, connect_cloudformation};
pub use deploy::{
    Action, AliasOutcome, DeployOptions, DeployOutcome, Steps, check_lifecycle, deploy,
    finish_canary, s3_key,
};
pub use drift::{FunctionDrift, compare, expected_code};
pub use error::AwsError;
pub use record::{DEPLOY_RECORD_FILE_NAME, DeployRecord, write_dotenv};
pub use remove::{RemoveOutcome, remove};
pub use roles::role_name;
pub use settings::{Difference, Settings};
pub use stack::{
    ProvenFunction, StackAction, StackOutcome, StackRequest, Uploaded, deploy_stack,
    upload_packages,
};

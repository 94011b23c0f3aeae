//! AWS SAM templates as a configuration source.
//!
//! [`load`] reads a SAM template (`template.yaml`) into the same
//! [`slipway_config::Project`] a `slipway.toml` gives, so the build, `invoke`
//! and `serve` run unchanged: every `AWS::Serverless::Function` of package type
//! Zip, `Globals` merged as SAM merges them, intrinsic functions resolved as
//! far as they can be before deployment. [`write_build_template`] then writes
//! `.aws-sam/build/template.yaml` where `sam deploy` and `sam package` look for
//! it, each `CodeUri` pointing at slipway's deterministic zip, which SAM
//! uploads byte for byte.

mod error;
pub mod intrinsics;
mod output;
mod read;

use std::collections::BTreeMap;
use std::fmt;

pub use error::{NotYaml, PropertyError, SamError};
pub use output::{
    BUILD_DIR, BUILD_TEMPLATE, BuildTemplate, BuiltFunction, packaged_template,
    write_build_template,
};
pub use read::{Options, load, load_config, load_str, merge_globals};

/// A SAM template read for slipway.
#[derive(Debug, Clone)]
pub struct SamProject {
    /// The template, absolute.
    pub path: std::path::PathBuf,
    /// The functions as slipway builds and runs them; each named by its logical id.
    pub project: slipway_config::Project,
    /// The template as read, the base of the build template.
    pub template: serde_norway::Value,
    /// What only the template knows, by logical id.
    pub functions: BTreeMap<String, SamFunction>,
    /// Values slipway could not resolve and passed through to SAM unchanged.
    pub notes: Vec<Note>,
}

/// What slipway keeps of a function beyond its [`slipway_config::Function`].
#[derive(Debug, Clone, PartialEq)]
pub struct SamFunction {
    pub logical_id: String,
    /// `AutoPublishAlias`, when set (on the function or in `Globals`).
    pub auto_publish_alias: Option<String>,
    /// `Metadata.slipway.layer`: dependencies go into their own layer.
    pub dependencies_layer: bool,
    /// `AlexaSkill` events.
    pub alexa: Vec<AlexaEvent>,
    /// Every event source: (name, SAM type).
    pub events: Vec<(String, String)>,
    /// `SQS` events on a queue of this template, which only the stack gives an ARN.
    pub queues: Vec<LocalQueue>,
}

/// An `SQS` event whose queue is `!GetAtt Q.Arn` of a queue in the same
/// template: local runs find it by name at the endpoint they poll.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalQueue {
    /// The event's name in the template.
    pub event: String,
    /// The queue's logical id.
    pub logical_id: String,
    /// Its `QueueName`, or the logical id when the template leaves the name to CloudFormation.
    pub name: String,
    /// The event's settings; `queue_arn` holds the expression as written.
    pub trigger: slipway_config::SqsTrigger,
}

/// An `AlexaSkill` event of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlexaEvent {
    /// The event's name in the template.
    pub event: String,
    /// The skill id the invoke permission is limited to, when resolvable.
    pub skill_id: Option<String>,
}

/// A value left for SAM and CloudFormation to resolve, and what that means locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub logical_id: String,
    pub property: String,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.logical_id, self.property, self.message)
    }
}

//! What every generated L1 type is: a serializable set of properties with a type name.

/// A CloudFormation resource type: its properties serialize one to one to `Properties`.
pub trait CfnResource: serde::Serialize {
    /// `AWS::Service::Type`
    const TYPE_NAME: &'static str;
}

/// How a resource type takes tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagShape {
    /// `[{"Key": k, "Value": v}]`
    List,
    /// `{k: v}`
    Map,
    /// not taggable through CloudFormation
    None,
}

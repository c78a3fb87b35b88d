//! CloudFront at the edge beside Lambda@Edge: a KeyValueStore and the CloudFront Function that
//! reads it. The store is associated through the function's `FunctionConfig
//! .KeyValueStoreAssociations` on `cloudfront-js-2.0` (rule L11); the generated cache behavior
//! types have no `KeyValueStoreAssociations`, so seed 004's override cannot be written.

use super::ConstructError;
use crate::cfn::cloudfront;
use crate::cfn::cloudfront::function as f;
use crate::template::{Attributes, DeletionPolicy, Expr, Handle, Stack, UpdateReplacePolicy};

/// A CloudFront KeyValueStore.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValueStore {
    pub id: String,
    pub handle: Handle,
}

impl KeyValueStore {
    /// A store named `<prefix>-<name>`, with outputs `<id>Arn` and `<id>Id`. Its key-value pairs
    /// are data (rule L05): retained with the stack where the environment keeps data.
    pub fn new(stack: &mut Stack, id: &str, name: &str, comment: &str) -> Result<Self, ConstructError> {
        let (deletion, replace) = if stack.retain_data {
            (DeletionPolicy::Retain, UpdateReplacePolicy::Retain)
        } else {
            (DeletionPolicy::Delete, UpdateReplacePolicy::Delete)
        };
        let handle = stack.template.add_with(
            id,
            &cloudfront::KeyValueStore {
                comment: Some(comment.into()),
                ..cloudfront::KeyValueStore::new(stack.physical_name(name))
            },
            Attributes {
                deletion_policy: Some(deletion),
                update_replace_policy: Some(replace),
                ..Attributes::default()
            },
        )?;
        let store = Self { id: id.to_string(), handle };
        stack.output(&format!("{id}Arn"), store.arn(), &format!("ARN of KeyValueStore {id}"))?;
        stack.output(
            &format!("{id}Id"),
            store.handle.get_att(cloudfront::KeyValueStore::ATTR_ID),
            &format!("id of KeyValueStore {id}"),
        )?;
        Ok(store)
    }

    pub fn arn(&self) -> Expr<String> {
        self.handle.get_att(cloudfront::KeyValueStore::ATTR_ARN)
    }
}

/// A CloudFront Function on `cloudfront-js-2.0`, published, optionally reading a KeyValueStore
/// (its code then opens it with `cf.kvs()`).
#[derive(Debug, Clone, PartialEq)]
pub struct ViewerFunction {
    pub id: String,
    pub handle: Handle,
}

impl ViewerFunction {
    pub fn new(
        stack: &mut Stack,
        id: &str,
        name: &str,
        code: &str,
        store: Option<&KeyValueStore>,
    ) -> Result<Self, ConstructError> {
        let what = format!("CloudFront Function `{id}`");
        if code.trim().is_empty() {
            return Err(ConstructError::invalid(&what, "has no code", "give it the function's JavaScript source"));
        }
        // CloudFront's quota on function code size
        if code.len() > 10 * 1024 {
            return Err(ConstructError::invalid(
                &what,
                &format!("has {} bytes of code; CloudFront Functions take at most 10 KB", code.len()),
                "move the logic to Lambda@Edge or trim the source",
            ));
        }
        if store.is_some() && !code.contains("cf.kvs(") {
            return Err(ConstructError::invalid(
                &what,
                "is associated with a KeyValueStore its code never opens",
                "read the store with `import cf from 'cloudfront'; const kvs = cf.kvs();`",
            ));
        }
        let config = f::FunctionConfig {
            key_value_store_associations: store.map(|s| vec![f::KeyValueStoreAssociation::new(s.arn())]),
            ..f::FunctionConfig::new(format!("castform: {name}"), f::Runtime::CloudfrontJs2_0)
        };
        let handle = stack.template.add(
            id,
            &cloudfront::Function {
                auto_publish: Some(true.into()),
                ..cloudfront::Function::new(code, config, stack.physical_name(name))
            },
        )?;
        let function = Self { id: id.to_string(), handle };
        stack.output(&format!("{id}Arn"), function.arn(), &format!("ARN of CloudFront Function {id}"))?;
        Ok(function)
    }

    pub fn arn(&self) -> Expr<String> {
        self.handle.get_att(cloudfront::Function::ATTR_FUNCTION_ARN)
    }
}

//! Roles with typed policy statements scoped to resource ARNs.

use super::ConstructError;
use crate::cfn::iam;
use crate::template::{Expr, Handle, Stack};
use serde_json::{Value, json};

/// One statement: actions on resources, with optional conditions. `Allow` unless made with
/// [`Statement::deny`].
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub actions: Vec<String>,
    pub resources: Vec<Expr<String>>,
    pub condition: Option<Value>,
    pub deny: bool,
}

impl Statement {
    /// Allows `actions` on exactly `resources`. A `*` resource is refused here: use
    /// [`Statement::any_resource`] for the actions AWS offers no resource-level permission for.
    pub fn allow(actions: &[&str], resources: Vec<Expr<String>>) -> Self {
        Self { actions: actions.iter().map(|a| a.to_string()).collect(), resources, condition: None, deny: false }
    }

    /// Denies `actions` on `resources` (with a condition, the exception to an `Allow`).
    pub fn deny(actions: &[&str], resources: Vec<Expr<String>>) -> Self {
        Self { deny: true, ..Self::allow(actions, resources) }
    }

    /// For actions without resource-level permissions (e.g. `medialive:ListChannels`);
    /// the reason is kept in the statement's `Sid`-free form and checked by rule L13.
    pub fn any_resource(actions: &[&str]) -> Self {
        Self::allow(actions, vec!["*".into()])
    }

    pub fn with_condition(mut self, condition: Value) -> Self {
        self.condition = Some(condition);
        self
    }

    fn validate(&self) -> Result<(), ConstructError> {
        if self.actions.is_empty() {
            return Err(ConstructError::invalid("a policy statement", "has no actions", "list the actions it allows"));
        }
        for a in &self.actions {
            if a == "*" || a.ends_with(":*") {
                return Err(ConstructError::invalid(
                    "a policy statement",
                    &format!("allows `{a}`"),
                    "name the actions the function calls (rule L13)",
                ));
            }
        }
        if self.resources.is_empty() {
            return Err(ConstructError::invalid(
                "a policy statement",
                "names no resources",
                "scope it to resource ARNs",
            ));
        }
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        let effect = if self.deny { "Deny" } else { "Allow" };
        let mut s = json!({"Effect": effect, "Action": self.actions, "Resource": self.resources});
        if let Some(c) = &self.condition {
            s["Condition"] = c.clone();
        }
        s
    }
}

/// An IAM role assumed by one service principal, with one inline policy that grows as
/// constructs grant it access.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub handle: Handle,
}

impl Role {
    /// A role `id` for `service` (e.g. `lambda.amazonaws.com`); managed policies only by ARN.
    pub fn new(stack: &mut Stack, id: &str, service: &str, statements: Vec<Statement>) -> Result<Self, ConstructError> {
        Self::for_services(stack, id, &[service], statements)
    }

    /// A role `service` assumes only on behalf of this account's resources (`aws:SourceAccount`
    /// in the trust policy): for services that document the key against the confused deputy,
    /// MediaConnect (<https://docs.aws.amazon.com/mediaconnect/latest/ug/cross-service-confused-deputy-prevention.html>)
    /// and MediaConvert (<https://docs.aws.amazon.com/mediaconvert/latest/ug/cross-service-confused-deputy-prevention.html>).
    pub fn for_account_of(
        stack: &mut Stack,
        id: &str,
        service: &str,
        statements: Vec<Statement>,
    ) -> Result<Self, ConstructError> {
        let role = Self::for_services(stack, id, &[service], statements)?;
        if let Some(r) = stack.template.resource_mut(role.handle.id.as_str()) {
            r.properties["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] =
                json!({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}});
        }
        Ok(role)
    }

    /// A role several service principals assume (Lambda@Edge: `lambda` and `edgelambda`).
    pub fn for_services(
        stack: &mut Stack,
        id: &str,
        services: &[&str],
        statements: Vec<Statement>,
    ) -> Result<Self, ConstructError> {
        for s in &statements {
            s.validate()?;
        }
        let principal = match services {
            [one] => json!(one),
            many => json!(many),
        };
        let assume = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]
        });
        let mut props = iam::Role::new(assume);
        if !statements.is_empty() {
            props.policies = Some(vec![policy(&statements)]);
        }
        let handle = stack.template.add(id, &props)?;
        Ok(Self { handle })
    }

    /// `GetAtt Arn`
    pub fn arn(&self) -> Expr<String> {
        self.handle.get_att(iam::Role::ATTR_ARN)
    }

    /// Adds statements to the role's inline policy.
    pub fn grant(&self, stack: &mut Stack, statements: Vec<Statement>) -> Result<(), ConstructError> {
        for s in &statements {
            s.validate()?;
        }
        let r = stack.template.resource_mut(self.handle.id.as_str()).ok_or_else(|| {
            ConstructError::invalid(
                self.handle.id.as_str(),
                "is not in this stack",
                "grant on the stack that defines the role",
            )
        })?;
        let policies = r
            .properties
            .as_object_mut()
            .expect("role properties are an object")
            .entry("Policies")
            .or_insert_with(|| json!([]));
        let list = policies.as_array_mut().expect("Policies is a list");
        if list.is_empty() {
            list.push(serde_json::to_value(policy(&statements)).unwrap_or_default());
        } else {
            let doc = &mut list[0]["PolicyDocument"]["Statement"];
            if let Some(arr) = doc.as_array_mut() {
                arr.extend(statements.iter().map(Statement::to_json));
            }
        }
        Ok(())
    }
}

fn policy(statements: &[Statement]) -> iam::role::Policy {
    iam::role::Policy::new(
        json!({"Version": "2012-10-17", "Statement": statements.iter().map(Statement::to_json).collect::<Vec<_>>()}),
        "least-privilege",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_actions_are_refused() {
        let mut s = Stack::new("p", "api", "us-west-2", false, "t");
        let e =
            Role::new(&mut s, "R", "lambda.amazonaws.com", vec![Statement::allow(&["dynamodb:*"], vec!["arn".into()])])
                .unwrap_err();
        assert_eq!(
            e.to_string(),
            "a policy statement allows `dynamodb:*`\nhelp: name the actions the function calls (rule L13)"
        );
    }

    #[test]
    fn grants_extend_the_inline_policy() {
        let mut s = Stack::new("p", "api", "us-west-2", false, "t");
        let r = Role::new(&mut s, "R", "lambda.amazonaws.com", vec![]).unwrap();
        r.grant(&mut s, vec![Statement::allow(&["dynamodb:GetItem"], vec![Expr::reference("T")])]).unwrap();
        r.grant(&mut s, vec![Statement::allow(&["sqs:SendMessage"], vec![Expr::reference("Q")])]).unwrap();
        let p = &s.template.resource("R").unwrap().properties;
        let stmts = p["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!(stmts[1]["Action"], json!(["sqs:SendMessage"]));
        assert_eq!(p["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"], "lambda.amazonaws.com");
    }
}

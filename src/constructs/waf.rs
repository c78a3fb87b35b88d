//! AWS WAF in front of a distribution: a web ACL of scope CLOUDFRONT with a rate-based rule on
//! one path, in us-east-1 where CloudFront's web ACLs must be created
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-wafv2-webacl.html>, `Scope`).

use super::ConstructError;
use crate::cfn::wafv2;
use crate::cfn::wafv2::web_acl as w;
use crate::template::{Accepted, Expr, Handle, Stack};

/// Settings of a [`RateLimit`].
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitProps {
    /// Requests one IP address may send within the window; AWS WAF takes 10 to 2,000,000,000.
    pub requests: u32,
    /// 60, 120, 300 or 600 seconds; default 300.
    pub window_s: u32,
    /// The path the limit applies to (a URI prefix); default `/api/`.
    pub path_prefix: String,
}

impl Default for RateLimitProps {
    fn default() -> Self {
        Self { requests: 1000, window_s: 300, path_prefix: "/api/".into() }
    }
}

/// A web ACL that lets everything through but blocks, with 429 Too Many Requests, an IP
/// address that sends more than `requests` to `path_prefix` within the window
/// (<https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html>).
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    pub handle: Handle,
}

impl RateLimitProps {
    /// A limit AWS WAF takes, on a path, for a web ACL CloudFront takes (one in us-east-1).
    fn validate(&self, stack: &Stack, what: &str) -> Result<(), ConstructError> {
        if stack.region != "us-east-1" {
            return Err(ConstructError::invalid(
                what,
                &format!("is a CloudFront web ACL in a stack in {}", stack.region),
                "define it in a stack in us-east-1 and pass its ARN to the distribution's stack",
            ));
        }
        if !(10..=2_000_000_000).contains(&self.requests) {
            return Err(ConstructError::invalid(
                what,
                &format!("allows {} requests, expected 10..=2000000000", self.requests),
                "set requests",
            ));
        }
        if ![60, 120, 300, 600].contains(&self.window_s) {
            return Err(ConstructError::invalid(
                what,
                &format!("has a {} s window, not one of AWS WAF's", self.window_s),
                "use 60, 120, 300 or 600 seconds",
            ));
        }
        if !self.path_prefix.starts_with('/') {
            return Err(ConstructError::invalid(what, "has a path that does not start with /", "set path_prefix"));
        }
        Ok(())
    }
}

impl RateLimit {
    pub fn new(stack: &mut Stack, id: &str, props: RateLimitProps) -> Result<Self, ConstructError> {
        props.validate(stack, &format!("rate limit `{id}`"))?;
        let metric = |name: &str| w::VisibilityConfig::new(true, name, true);
        let on_path = w::Statement {
            byte_match_statement: Some(w::ByteMatchStatement {
                search_string: Some(props.path_prefix.as_str().into()),
                ..w::ByteMatchStatement::new(
                    w::FieldToMatch { uri_path: Some(serde_json::json!({})), ..Default::default() },
                    w::PositionalConstraint::StartsWith,
                    vec![w::TextTransformation::new(0, w::TextTransformationType::None)],
                )
            }),
            ..Default::default()
        };
        let rule = w::Rule {
            action: Some(w::RuleAction {
                block: Some(w::BlockAction { custom_response: Some(w::CustomResponse::new(429)) }),
                ..Default::default()
            }),
            ..w::Rule::new(
                "ApiRateLimit",
                0,
                w::Statement {
                    rate_based_statement: Some(Box::new(w::RateBasedStatement {
                        evaluation_window_sec: Some(i64::from(props.window_s).into()),
                        scope_down_statement: Some(Box::new(on_path)),
                        ..w::RateBasedStatement::new(w::AggregateKeyType::Ip, i64::from(props.requests))
                    })),
                    ..Default::default()
                },
                metric(&format!("{id}ApiRateLimit")),
            )
        };
        let acl = wafv2::WebACL {
            name: Some(stack.physical_name(&id.to_ascii_lowercase()).into()),
            description: Some(
                format!(
                    "castform: at most {} requests per {} s from one IP address under {}",
                    props.requests, props.window_s, props.path_prefix
                )
                .into(),
            ),
            rules: Some(vec![rule]),
            ..wafv2::WebACL::new(
                w::DefaultAction { allow: Some(w::AllowAction::default()), ..Default::default() },
                w::Scope::Cloudfront,
                metric(id),
            )
        };
        let handle = stack.template.add(id, &acl)?;
        stack.template.accept(
            &handle.id,
            Accepted::Checkov("CKV_AWS_192"),
            "no AWSManagedRulesKnownBadInputsRuleSet: it guards Java origins against Log4j's message lookup (CVE-2021-44228), and this distribution's origins are S3, MediaPackage and a Node.js Lambda function; the rule group would add $1 a month and its request charges (https://aws.amazon.com/waf/pricing/)",
        )?;
        stack.output(&format!("{id}Arn"), handle.get_att(wafv2::WebACL::ATTR_ARN), "ARN of the web ACL")?;
        Ok(Self { handle })
    }

    pub fn arn(&self) -> Expr<String> {
        self.handle.get_att(wafv2::WebACL::ATTR_ARN)
    }
}

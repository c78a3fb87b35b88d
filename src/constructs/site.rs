//! A static site: a private bucket behind CloudFront with origin access control, HTTPS only,
//! security headers, a default root object, and optionally a second origin such as an HLS
//! endpoint.

use super::ConstructError;
use super::bucket::Bucket;
use super::edge::ViewerFunction;
use super::function::EdgeEvent;
use crate::cfn::cloudfront::distribution as d;
use crate::cfn::cloudfront::origin_access_control as oac;
use crate::cfn::cloudfront::response_headers_policy as rhp;
use crate::cfn::{cloudfront, cloudwatch};
use crate::template::{Accepted, Expr, Handle, OutputRole, Stack};
use serde_json::json;

/// CloudFront's managed cache policy `Managed-CachingOptimized`.
pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// CloudFront's managed cache policy `Managed-Elemental-MediaPackage`.
pub const CACHING_MEDIAPACKAGE: &str = "08627262-05a9-4f76-9ded-b50ca2e3a84f";

/// A second origin, served under `path_pattern` (e.g. the HLS endpoint under `/out/*`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraOrigin {
    pub id: String,
    /// The origin's host name (no scheme, no path).
    pub domain: Expr<String>,
    pub path_pattern: String,
    pub cache_policy_id: String,
}

/// CloudFront's managed cache policy `Managed-CachingDisabled`.
pub const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// CloudFront's managed origin request policy `Managed-AllViewerExceptHostHeader`: every viewer
/// header but `Host`, which a Function URL must receive as its own name.
pub const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

/// A Function URL with AuthType `AWS_IAM` served under `path_pattern` of the site's own domain:
/// CloudFront signs each request with an origin access control of type `lambda`, and the
/// function allows the distribution, and nothing else, to invoke it
/// ("Restrict access to an AWS Lambda function URL origin",
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html>).
/// Every method: CloudFront signs on behalf of any viewer, so the function itself requires an
/// operator's token for a write that comes through the distribution, which it knows by the
/// origin header `x-castform-via: cloudfront` (CloudFront overwrites a viewer's own value,
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html>);
/// a viewer's PUT or POST sends `x-amz-content-sha256`, as Lambda refuses unsigned payloads.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOrigin {
    /// The Function URL (`https://<id>.lambda-url.<region>.on.aws/`).
    pub url: Expr<String>,
    /// What the permissions name: the URL's alias ARN.
    pub invoke_target: Expr<String>,
    pub path_pattern: String,
}

/// A Lambda@Edge function on the default cache behavior: the ARN of a numbered version (from
/// the edge stack in us-east-1, passed in as a parameter).
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeAssociation {
    pub event: EdgeEvent,
    pub version_arn: Expr<String>,
}

/// A cache behavior on the site's bucket under `path_pattern` that runs a CloudFront Function on
/// viewer requests. CloudFront allows no Lambda@Edge viewer trigger beside it on the same
/// behavior, so the default behavior's edge function does not run there.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionBehavior {
    pub path_pattern: String,
    pub function: ViewerFunction,
}

/// Settings of a [`Site`].
#[derive(Debug, Clone, PartialEq)]
pub struct SiteProps {
    /// Default `index.html`; empty for none (a media bucket).
    pub default_root_object: String,
    pub extra_origin: Option<ExtraOrigin>,
    pub api_origin: Option<ApiOrigin>,
    /// A custom domain and its ACM certificate (us-east-1): enables TLS 1.2 as the minimum.
    /// Without one, CloudFront's default certificate is used.
    pub domain: Option<(String, String)>,
    pub edge: Option<EdgeAssociation>,
    pub function_behaviors: Vec<FunctionBehavior>,
    /// The ARN of an AWS WAF web ACL of scope CLOUDFRONT (defined in us-east-1) that filters
    /// every request; default none.
    pub web_acl: Option<Expr<String>>,
}

impl Default for SiteProps {
    fn default() -> Self {
        Self {
            default_root_object: "index.html".into(),
            extra_origin: None,
            api_origin: None,
            domain: None,
            edge: None,
            function_behaviors: vec![],
            web_acl: None,
        }
    }
}

/// The site's bucket and distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub bucket: Bucket,
    pub distribution: Handle,
}

impl Site {
    pub fn new(stack: &mut Stack, id: &str, props: SiteProps) -> Result<Self, ConstructError> {
        let bucket = Bucket::new(stack, &format!("{id}Bucket"))?;
        let access = stack.template.add(
            &format!("{id}OriginAccess"),
            &cloudfront::OriginAccessControl::new(oac::OriginAccessControlConfig {
                description: Some("castform: CloudFront reads the site bucket with SigV4".into()),
                ..oac::OriginAccessControlConfig::new(stack.physical_name("site-oac"), "s3", "always", "sigv4")
            }),
        )?;
        let headers = add_security_headers(stack, id)?;
        let mut routes = Routes::new(&bucket, &access, &headers);
        for fb in &props.function_behaviors {
            routes.function_behavior(fb);
        }
        if let Some(extra) = &props.extra_origin {
            routes.extra_origin(extra);
        }
        if let Some(api) = &props.api_origin {
            routes.api_origin(stack, id, api)?;
        }
        let config = distribution_config(stack, &props, routes);
        let distribution = stack.template.add(&format!("{id}Distribution"), &cloudfront::Distribution::new(config))?;
        accept_distribution_defaults(stack, &distribution, &bucket, &props)?;
        bucket.add_policy_statement(
            stack,
            json!({
                "Sid": "CloudFrontReadsSite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": bucket.objects_arn(),
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn(id)}}
            }),
        )?;
        let domain: Expr<String> = distribution.get_att(cloudfront::Distribution::ATTR_DOMAIN_NAME);
        let id_output =
            stack.output(&format!("{id}DistributionId"), distribution.reference(), "CloudFront distribution id")?;
        stack.declare(&id_output, OutputRole::Distribution)?;
        stack.output(&format!("{id}DomainName"), domain.clone(), "CloudFront domain name")?;
        let url = match &props.domain {
            Some((name, _)) => Expr::from(format!("https://{name}")),
            None => Expr::join("", vec!["https://".into(), domain]),
        };
        let url = stack.output(&format!("{id}Url"), url, "the site's URL")?;
        stack.declare(&url, OutputRole::SiteUrl)?;
        Ok(Self { bucket, distribution })
    }

    /// `https://<domain>` of the distribution, for CORS origins.
    pub fn origin(&self) -> Expr<String> {
        Expr::join("", vec!["https://".into(), self.distribution.get_att(cloudfront::Distribution::ATTR_DOMAIN_NAME)])
    }
}

/// The response headers every behavior sends: HSTS with preload, nosniff, frame deny, a strict
/// referrer policy.
fn add_security_headers(stack: &mut Stack, id: &str) -> Result<Handle, ConstructError> {
    Ok(stack.template.add(
        &format!("{id}SecurityHeaders"),
        &cloudfront::ResponseHeadersPolicy::new(rhp::ResponseHeadersPolicyConfig {
            comment: Some("castform: HSTS, nosniff, frame deny, strict referrer".into()),
            security_headers_config: Some(rhp::SecurityHeadersConfig {
                strict_transport_security: Some(rhp::StrictTransportSecurity {
                    include_subdomains: Some(true.into()),
                    preload: Some(true.into()),
                    ..rhp::StrictTransportSecurity::new(63_072_000, true)
                }),
                content_type_options: Some(rhp::ContentTypeOptions::new(true)),
                frame_options: Some(rhp::FrameOptions::new("DENY", true)),
                referrer_policy: Some(rhp::ReferrerPolicy::new(true, "strict-origin-when-cross-origin")),
                xss_protection: Some(rhp::XSSProtection {
                    mode_block: Some(true.into()),
                    ..rhp::XSSProtection::new(true, true)
                }),
                ..Default::default()
            }),
            ..rhp::ResponseHeadersPolicyConfig::new(stack.physical_name("security-headers"))
        }),
    )?)
}

/// The site bucket's origin (`site`), and the distribution's further origins and cache behaviors
/// in the order they are added.
struct Routes {
    origins: Vec<d::Origin>,
    behaviors: Vec<d::CacheBehavior>,
    /// The security headers policy's id, for every behavior.
    headers: Expr<String>,
}

/// The id of the site bucket's origin.
const SITE_ORIGIN: &str = "site";

impl Routes {
    fn new(bucket: &Bucket, access: &Handle, headers: &Handle) -> Self {
        let site = d::Origin {
            origin_access_control_id: Some(access.get_att(cloudfront::OriginAccessControl::ATTR_ID)),
            s3_origin_config: Some(d::S3OriginConfig { origin_access_identity: Some("".into()), ..Default::default() }),
            ..d::Origin::new(bucket.handle.get_att(crate::cfn::s3::Bucket::ATTR_REGIONAL_DOMAIN_NAME), SITE_ORIGIN)
        };
        let headers = headers.get_att(cloudfront::ResponseHeadersPolicy::ATTR_ID);
        Self { origins: vec![site], behaviors: vec![], headers }
    }

    /// A CloudFront Function on viewer requests under a path of the site's bucket.
    fn function_behavior(&mut self, fb: &FunctionBehavior) {
        self.behaviors.push(d::CacheBehavior {
            cache_policy_id: Some(CACHING_OPTIMIZED.into()),
            response_headers_policy_id: Some(self.headers.clone()),
            allowed_methods: Some(vec!["GET".into(), "HEAD".into()]),
            compress: Some(true.into()),
            function_associations: Some(vec![d::FunctionAssociation {
                event_type: Some("viewer-request".into()),
                function_arn: Some(fb.function.arn()),
            }]),
            ..d::CacheBehavior::new(fb.path_pattern.as_str(), SITE_ORIGIN, "redirect-to-https")
        });
    }

    /// A second origin over HTTPS, cached by its own policy.
    fn extra_origin(&mut self, extra: &ExtraOrigin) {
        self.origins.push(d::Origin {
            custom_origin_config: Some(d::CustomOriginConfig {
                origin_ssl_protocols: Some(vec!["TLSv1.2".into()]),
                ..d::CustomOriginConfig::new("https-only")
            }),
            ..d::Origin::new(extra.domain.clone(), extra.id.as_str())
        });
        self.behaviors.push(d::CacheBehavior {
            cache_policy_id: Some(extra.cache_policy_id.as_str().into()),
            response_headers_policy_id: Some(self.headers.clone()),
            allowed_methods: Some(vec!["GET".into(), "HEAD".into(), "OPTIONS".into()]),
            compress: Some(true.into()),
            ..d::CacheBehavior::new(extra.path_pattern.as_str(), extra.id.as_str(), "redirect-to-https")
        });
    }

    /// The API's Function URL, signed by its own origin access control, uncached, with both
    /// permissions it needs for this distribution.
    fn api_origin(&mut self, stack: &mut Stack, id: &str, api: &ApiOrigin) -> Result<(), ConstructError> {
        let access = stack.template.add(
            &format!("{id}ApiOriginAccess"),
            &cloudfront::OriginAccessControl::new(oac::OriginAccessControlConfig {
                description: Some("castform: CloudFront calls the API's Function URL with SigV4".into()),
                ..oac::OriginAccessControlConfig::new(stack.physical_name("api-oac"), "lambda", "always", "sigv4")
            }),
        )?;
        self.origins.push(d::Origin {
            origin_access_control_id: Some(access.get_att(cloudfront::OriginAccessControl::ATTR_ID)),
            custom_origin_config: Some(d::CustomOriginConfig {
                origin_ssl_protocols: Some(vec!["TLSv1.2".into()]),
                ..d::CustomOriginConfig::new("https-only")
            }),
            origin_custom_headers: Some(vec![d::OriginCustomHeader::new("x-castform-via", "cloudfront")]),
            ..d::Origin::new(Expr::select(2, Expr::split("/", api.url.clone())), "api")
        });
        self.behaviors.push(d::CacheBehavior {
            cache_policy_id: Some(CACHING_DISABLED.into()),
            origin_request_policy_id: Some(ALL_VIEWER_EXCEPT_HOST.into()),
            response_headers_policy_id: Some(self.headers.clone()),
            allowed_methods: Some(
                ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"].iter().map(|m| (*m).into()).collect(),
            ),
            ..d::CacheBehavior::new(api.path_pattern.as_str(), "api", "https-only")
        });
        // both actions a Function URL needs since October 2025, for this distribution only
        // (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)
        let source = distribution_arn(id);
        stack.template.add(
            &format!("{id}ApiInvokeUrl"),
            &crate::cfn::lambda::Permission {
                source_arn: Some(source.clone()),
                function_url_auth_type: Some(crate::cfn::lambda::permission::FunctionUrlAuthType::AwsIam.into()),
                ..crate::cfn::lambda::Permission::new(
                    "lambda:InvokeFunctionUrl",
                    api.invoke_target.clone(),
                    "cloudfront.amazonaws.com",
                )
            },
        )?;
        stack.template.add(
            &format!("{id}ApiInvokeFunction"),
            &crate::cfn::lambda::Permission {
                source_arn: Some(source),
                invoked_via_function_url: Some(true.into()),
                ..crate::cfn::lambda::Permission::new(
                    "lambda:InvokeFunction",
                    api.invoke_target.clone(),
                    "cloudfront.amazonaws.com",
                )
            },
        )?;
        Ok(())
    }
}

/// The distribution: the routes, the certificate (the custom domain's, or CloudFront's own), HTTP/2
/// and 3, IPv6, the cheapest price class, the web ACL, and the site's bucket by default.
fn distribution_config(stack: &Stack, props: &SiteProps, routes: Routes) -> d::DistributionConfig {
    let Routes { origins, behaviors, headers } = routes;
    let certificate = match &props.domain {
        Some((_, arn)) => d::ViewerCertificate {
            acm_certificate_arn: Some(arn.as_str().into()),
            minimum_protocol_version: Some(d::MinimumProtocolVersion::TLSv1_2_2021.into()),
            ssl_support_method: Some(d::SslSupportMethod::SniOnly.into()),
            ..Default::default()
        },
        None => d::ViewerCertificate { cloud_front_default_certificate: Some(true.into()), ..Default::default() },
    };
    d::DistributionConfig {
        comment: Some(stack.physical_name("site").into()),
        default_root_object: (!props.default_root_object.is_empty()).then(|| props.default_root_object.as_str().into()),
        origins: Some(origins),
        cache_behaviors: (!behaviors.is_empty()).then_some(behaviors),
        aliases: props.domain.as_ref().map(|(name, _)| vec![name.as_str().into()]),
        viewer_certificate: Some(certificate),
        http_version: Some(d::HttpVersion::Http2and3.into()),
        ipv6_enabled: Some(true.into()),
        price_class: Some(d::PriceClass::PriceClass100.into()),
        web_acl_id: props.web_acl.clone(),
        ..d::DistributionConfig::new(
            d::DefaultCacheBehavior {
                cache_policy_id: Some(CACHING_OPTIMIZED.into()),
                response_headers_policy_id: Some(headers),
                compress: Some(true.into()),
                allowed_methods: Some(vec!["GET".into(), "HEAD".into()]),
                lambda_function_associations: props.edge.as_ref().map(|e| {
                    vec![d::LambdaFunctionAssociation {
                        event_type: Some(e.event.as_str().into()),
                        lambda_function_arn: Some(e.version_arn.clone()),
                        include_body: None,
                    }]
                }),
                ..d::DefaultCacheBehavior::new(SITE_ORIGIN, d::ViewerProtocolPolicy::RedirectToHttps)
            },
            true,
        )
    }
}

/// The checkov findings a site has on purpose, each with its reason.
fn accept_distribution_defaults(
    stack: &mut Stack,
    distribution: &Handle,
    bucket: &Bucket,
    props: &SiteProps,
) -> Result<(), ConstructError> {
    if props.domain.is_none() {
        stack.template.accept(
            &distribution.id,
            Accepted::Checkov("CKV_AWS_174"),
            "served on CloudFront's default *.cloudfront.net certificate, with which CloudFront sets the security policy to TLSv1 whatever the template says (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-cloudfront-distribution-viewercertificate.html); an environment with web.domain and web.certificate_arn gets TLSv1.2_2021",
        )?;
    }
    stack.template.accept(
        &distribution.id,
        Accepted::Checkov("CKV_AWS_86"),
        "no standard logs: CloudFront's S3 logs need a log bucket with ACLs enabled (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html), which castform's buckets refuse (BucketOwnerEnforced); the distribution's request and error rates are in CloudWatch at no charge",
    )?;
    if props.web_acl.is_none() {
        stack.template.accept(
            &distribution.id,
            Accepted::Checkov("CKV_AWS_68"),
            "no AWS WAF web ACL in this environment: one costs $5 a month plus $1 per rule and $0.60 per million requests (https://aws.amazon.com/waf/pricing/); environments that set a rate limit get one",
        )?;
    }
    // the bucket is the distribution's origin, read only through the origin access control
    stack.template.accept(
        &bucket.handle.id,
        Accepted::Checkov("CKV_AWS_18"),
        "read only by this distribution, through its origin access control, and written only by castform's deploys; viewers' requests are the distribution's to log, and S3 server access logs would add a bucket recording only CloudFront's fetches",
    )?;
    Ok(())
}

/// The distribution's ARN, before it exists (for the permissions and policies that name it).
fn distribution_arn(id: &str) -> Expr<String> {
    Expr::sub(format!("arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{id}Distribution}}"))
}

/// Alarms on a distribution's error rates, in us-east-1 where CloudFront publishes its metrics
/// (namespace AWS/CloudFront, dimensions DistributionId and Region=Global:
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html>).
/// 4xx above 10% for 15 minutes: viewers refused at scale (an edge check failing closed); 5xx
/// above 5% for 10 minutes: the origin or an edge function failing.
pub fn distribution_alarms(stack: &mut Stack, id: &str, distribution_id: Expr<String>) -> Result<(), ConstructError> {
    if stack.region != "us-east-1" {
        return Err(ConstructError::invalid(
            &format!("alarms of distribution `{id}`"),
            &format!("are in a stack in {}, where CloudFront publishes no metrics", stack.region),
            "define them in a stack in us-east-1",
        ));
    }
    for (metric, threshold, periods, what) in [
        ("4xxErrorRate", 10.0, 3, "viewers refused"),
        ("5xxErrorRate", 5.0, 2, "errors from the origin or an edge function"),
    ] {
        let alarm_id = format!("{id}{}", metric.replace("ErrorRate", "Rate"));
        stack.template.add(
            &alarm_id,
            &cloudwatch::Alarm {
                alarm_description: Some(
                    format!(
                        "{id}: more than {threshold}% of requests answered {} for {} minutes ({what})",
                        &metric[..3],
                        periods * 5
                    )
                    .into(),
                ),
                namespace: Some("AWS/CloudFront".into()),
                metric_name: Some(metric.into()),
                dimensions: Some(vec![
                    cloudwatch::alarm::Dimension::new("DistributionId", distribution_id.clone()),
                    cloudwatch::alarm::Dimension::new("Region", "Global"),
                ]),
                statistic: Some(cloudwatch::alarm::Statistic::Average.into()),
                period: Some(300.into()),
                evaluation_periods: Some(periods.into()),
                threshold: Some(threshold.into()),
                comparison_operator: Some(cloudwatch::alarm::ComparisonOperator::GreaterThanThreshold.into()),
                treat_missing_data: Some(cloudwatch::alarm::TreatMissingData::NotBreaching.into()),
                ..Default::default()
            },
        )?;
    }
    Ok(())
}

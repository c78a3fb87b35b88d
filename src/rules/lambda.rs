//! Lambda lessons: Function URL permissions, runtimes, Lambda@Edge, memory, reserved
//! environment variables, versions, alarms, CORS.

use super::util::{as_list, referenced_ids, refers_to};
use super::{Hit, Severity, Target, parse_date, runtimes};
use crate::cfn::LAMBDA_RESERVED_ENV;
use serde_json::Value;

/// The function a `FunctionName`/`TargetFunctionArn` value designates: the logical id of an
/// `AWS::Lambda::Function`, following an alias or version to its function.
fn function_of(t: &Target, v: &Value) -> Option<String> {
    function_through(t, v, &mut Vec::new())
}

/// [`function_of`], remembering the aliases and versions already followed: a template whose
/// alias names itself (`FunctionName: !Ref Self`) ends the search instead of the process
/// (code review: a stack overflow on `check --template`).
fn function_through(t: &Target, v: &Value, seen: &mut Vec<String>) -> Option<String> {
    for id in referenced_ids(v) {
        match t.type_of(&id) {
            Some("AWS::Lambda::Function") => return Some(id),
            Some("AWS::Lambda::Alias") | Some("AWS::Lambda::Version") => {
                if seen.contains(&id) {
                    return None;
                }
                seen.push(id.clone());
                let inner = &t.resource(&id)?["Properties"]["FunctionName"];
                return function_through(t, inner, seen);
            }
            _ => {}
        }
    }
    v.as_str().map(|s| format!("literal:{s}"))
}

/// L01: a public Function URL has both resource-based permissions on the same function; a
/// distribution that signs for a Function URL origin (an origin access control of type `lambda`)
/// is granted both actions by the function, as the cloudfront.amazonaws.com principal with an
/// `AWS:SourceArn` naming that distribution
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html>;
/// both actions since October 2025, <https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html>).
pub fn l01(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, dist) in t.of_type("AWS::CloudFront::Distribution") {
        let signs_lambda = as_list(&dist["DistributionConfig"]["Origins"]).iter().any(|o| {
            referenced_ids(&o["OriginAccessControlId"]).iter().any(|oac| {
                t.resource(oac).is_some_and(|r| {
                    r["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "lambda"
                })
            })
        });
        if !signs_lambda {
            continue;
        }
        let granted = |action: &str| {
            t.of_type("AWS::Lambda::Permission").any(|(_, p)| {
                p["Action"] == action && p["Principal"] == "cloudfront.amazonaws.com" && refers_to(&p["SourceArn"], id)
            })
        };
        let missing: Vec<&str> =
            ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"].into_iter().filter(|a| !granted(a)).collect();
        if !missing.is_empty() {
            hits.push(Hit::new(
                id,
                format!(
                    "signs for a Function URL origin (origin access control of type lambda), but no permission grants cloudfront.amazonaws.com {} with this distribution as AWS:SourceArn: the origin answers 403",
                    missing.join(" and ")
                ),
                "add AWS::Lambda::Permission resources on the URL's function for both actions, Principal cloudfront.amazonaws.com, SourceArn the distribution's ARN",
            ));
        }
    }
    for (id, url) in t.of_type("AWS::Lambda::Url") {
        if url["AuthType"] != "NONE" {
            continue;
        }
        let Some(target) = function_of(t, &url["TargetFunctionArn"]) else { continue };
        let perms: Vec<&Value> = t
            .of_type("AWS::Lambda::Permission")
            .filter(|(_, p)| function_of(t, &p["FunctionName"]).as_deref() == Some(target.as_str()))
            .map(|(_, p)| p)
            .collect();
        let has_url = perms.iter().any(|p| {
            p["Action"] == "lambda:InvokeFunctionUrl" && p["FunctionUrlAuthType"] == "NONE" && p["Principal"] == "*"
        });
        let has_invoke = perms.iter().any(|p| {
            p["Action"] == "lambda:InvokeFunction"
                && (p["InvokedViaFunctionUrl"] == true || p["InvokedViaFunctionUrl"] == "true")
                && p["Principal"] == "*"
        });
        let mut missing = vec![];
        if !has_url {
            missing.push("`lambda:InvokeFunctionUrl` with `FunctionUrlAuthType: NONE`");
        }
        if !has_invoke {
            missing.push("`lambda:InvokeFunction` with `InvokedViaFunctionUrl: true`");
        }
        if !missing.is_empty() {
            hits.push(Hit::new(
                id,
                format!("public Function URL lacks the permission {}: the URL answers 403", missing.join(" and ")),
                "add AWS::Lambda::Permission resources on the same function (Principal \"*\") for both actions, as castform's FunctionUrl does",
            ));
        }
    }
    hits
}

/// L02: runtimes are not deprecated; within 180 days is a warning.
pub fn l02(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, f) in t.of_type("AWS::Lambda::Function") {
        let Some(rt) = f["Runtime"].as_str() else { continue };
        let newest = "nodejs24.x";
        match runtimes::lookup(rt) {
            Some(info) => {
                let Some(day) = parse_date(&info.deprecated) else { continue };
                if day <= t.today {
                    hits.push(Hit::new(
                        id,
                        format!("runtime {rt} reached end of support on {}; Lambda blocks creating and then updating functions on it", info.deprecated),
                        format!("move to a supported runtime such as {newest}"),
                    ));
                } else if day - t.today <= 180 {
                    hits.push(
                        Hit::new(
                            id,
                            format!("runtime {rt} reaches end of support on {} ({} days)", info.deprecated, day - t.today),
                            format!("plan the move to {newest}"),
                        )
                        .with_severity(Severity::Warning),
                    );
                }
            }
            None => hits.push(
                Hit::new(
                    id,
                    format!("runtime {rt} is not in castform's runtime table (data/lambda-runtimes.json), so its support dates are unknown"),
                    "check the Lambda runtimes page and add it to the table",
                )
                .with_severity(Severity::Warning),
            ),
        }
    }
    hits
}

/// Lambda@Edge associations: (distribution id, event type, function logical id or None, the ARN value).
fn edge_associations(t: &Target) -> Vec<(String, String, Option<String>, Value)> {
    let mut out = vec![];
    for (id, d) in t.of_type("AWS::CloudFront::Distribution") {
        let cfg = &d["DistributionConfig"];
        let mut behaviors = vec![&cfg["DefaultCacheBehavior"]];
        behaviors.extend(as_list(&cfg["CacheBehaviors"]));
        for b in behaviors {
            for a in as_list(&b["LambdaFunctionAssociations"]) {
                let arn = a["LambdaFunctionARN"].clone();
                let f = function_of(t, &arn).filter(|f| !f.starts_with("literal:"));
                out.push((id.to_string(), a["EventType"].as_str().unwrap_or("").to_string(), f, arn));
            }
        }
    }
    // functions castform marks as edge functions, for stacks where the distribution lives elsewhere
    for (id, _) in t.of_type("AWS::Lambda::Function") {
        if let Some(ev) = t.resource(id).and_then(|r| r["Metadata"]["castform"]["edge"].as_str())
            && !out.iter().any(|(_, _, f, _)| f.as_deref() == Some(id))
        {
            out.push((String::new(), ev.to_string(), Some(id.to_string()), Value::Null));
        }
    }
    out
}

/// L03: Lambda@Edge functions have no environment variables, live in us-east-1, and are
/// referenced by a published version.
pub fn l03(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (dist, _, f, arn) in edge_associations(t) {
        if !dist.is_empty() {
            let versioned = referenced_ids(&arn).iter().any(|r| t.type_of(r) == Some("AWS::Lambda::Version"))
                || (arn.is_string()
                    && !arn.as_str().unwrap_or("").ends_with("$LATEST")
                    && arn.as_str().unwrap_or("").rsplit(':').next().is_some_and(|v| v.parse::<u32>().is_ok()))
                || referenced_ids(&arn).iter().any(|r| t.template["Parameters"].get(r).is_some());
            if !versioned {
                hits.push(Hit::new(
                    &dist,
                    "a Lambda@Edge association does not point at a published version (a function ARN or $LATEST)",
                    "publish an AWS::Lambda::Version and associate its ARN",
                ));
            }
        }
        let Some(f) = f else { continue };
        let props = &t.resource(&f).unwrap()["Properties"];
        if props["Environment"]["Variables"].as_object().is_some_and(|m| !m.is_empty()) {
            hits.push(Hit::new(
                &f,
                "a Lambda@Edge function has environment variables, which CloudFront refuses",
                "bake per-environment values into the code from a template at build time",
            ));
        }
        if let Some(region) = &t.region
            && region != "us-east-1"
        {
            hits.push(Hit::new(
                &f,
                format!("a Lambda@Edge function is defined in {region}"),
                "define edge functions in a stack in us-east-1",
            ));
        }
    }
    hits
}

/// L04: Lambda@Edge limits by trigger.
pub fn l04(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (_, event, f, _) in edge_associations(t) {
        let Some(f) = f else { continue };
        let p = &t.resource(&f).unwrap()["Properties"];
        let memory = p["MemorySize"].as_i64().unwrap_or(128);
        let timeout = p["Timeout"].as_i64().unwrap_or(3);
        let viewer = event.starts_with("viewer-");
        if viewer && memory > 128 {
            hits.push(Hit::new(
                &f,
                format!("a {event} Lambda@Edge function has {memory} MB; viewer triggers allow at most 128 MB (256 MB is refused)"),
                "set MemorySize to 128 or move the logic to an origin trigger",
            ));
        }
        if viewer && timeout > 5 {
            hits.push(Hit::new(
                &f,
                format!("a {event} Lambda@Edge function has a {timeout} s timeout; viewer triggers allow at most 5 s"),
                "set Timeout to 5 or less",
            ));
        }
        if !viewer && timeout > 30 {
            hits.push(Hit::new(
                &f,
                format!("a {event} Lambda@Edge function has a {timeout} s timeout; origin triggers allow at most 30 s"),
                "set Timeout to 30 or less",
            ));
        }
    }
    hits
}

fn is_node(runtime: &str) -> bool {
    runtime
        .strip_prefix("nodejs")
        .and_then(|r| r.strip_suffix(".x"))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| n >= 18)
}

/// L12: functions on Node.js 18+ (whose bundled SDK is v3) have at least 256 MB; edge viewer
/// functions excepted.
pub fn l12(t: &Target) -> Vec<Hit> {
    let viewer: Vec<String> = edge_associations(t)
        .into_iter()
        .filter(|(_, e, _, _)| e.starts_with("viewer-"))
        .filter_map(|(_, _, f, _)| f)
        .collect();
    let mut hits = vec![];
    for (id, f) in t.of_type("AWS::Lambda::Function") {
        if viewer.iter().any(|v| v == id) || !f["Runtime"].as_str().is_some_and(is_node) {
            continue;
        }
        let memory = f["MemorySize"].as_i64();
        if memory.unwrap_or(128) < 256 && (memory.is_some() || f["MemorySize"].is_null()) {
            hits.push(Hit::new(
                id,
                format!("a Node.js function with the AWS SDK v3 has {} MB", memory.unwrap_or(128)),
                "give it at least 256 MB",
            ));
        }
    }
    hits
}

/// L14: no reserved environment variables.
pub fn l14(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, f) in t.of_type("AWS::Lambda::Function") {
        for key in f["Environment"]["Variables"].as_object().into_iter().flatten().map(|(k, _)| k) {
            if LAMBDA_RESERVED_ENV.contains(&key.as_str()) {
                hits.push(Hit::new(
                    id,
                    format!("sets the reserved environment variable {key}; Lambda refuses the function"),
                    format!("remove {key}: Lambda sets it itself"),
                ));
            }
        }
    }
    hits
}

/// API functions: those behind a Function URL or invoked by API Gateway.
fn api_functions(t: &Target) -> Vec<String> {
    let mut out: Vec<String> =
        t.of_type("AWS::Lambda::Url").filter_map(|(_, u)| function_of(t, &u["TargetFunctionArn"])).collect();
    for (_, p) in t.of_type("AWS::Lambda::Permission") {
        if p["Principal"] == "apigateway.amazonaws.com" {
            out.extend(function_of(t, &p["FunctionName"]));
        }
    }
    out.retain(|f| !f.starts_with("literal:"));
    out.sort();
    out.dedup();
    out
}

/// L19: API functions publish versions behind an alias, and are served through it.
pub fn l19(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for f in api_functions(t) {
        let alias = t.of_type("AWS::Lambda::Alias").any(|(_, a)| {
            refers_to(&a["FunctionName"], &f)
                && referenced_ids(&a["FunctionVersion"]).iter().any(|v| t.type_of(v) == Some("AWS::Lambda::Version"))
        });
        if !alias {
            hits.push(Hit::new(&f, "an API function has no alias on a published version, so a rollback cannot move it back", "publish an AWS::Lambda::Version and serve the function through an alias (castform's Function does: `live`)"));
        }
    }
    hits
}

/// L20: every function has an errors alarm.
pub fn l20(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, _) in t.of_type("AWS::Lambda::Function") {
        let alarmed = t.of_type("AWS::CloudWatch::Alarm").any(|(_, a)| {
            a["MetricName"] == "Errors"
                && a["Namespace"] == "AWS/Lambda"
                && as_list(&a["Dimensions"]).iter().any(|d| d["Name"] == "FunctionName" && refers_to(&d["Value"], id))
        });
        if !alarmed {
            hits.push(Hit::new(
                id,
                "has no errors alarm",
                "add an AWS::CloudWatch::Alarm on AWS/Lambda Errors for it (more than 5 errors in 5 minutes)",
            ));
        }
    }
    hits
}

/// L21: where data is retained, a Function URL's CORS names origins, never `*`.
pub fn l21(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, u) in t.of_type("AWS::Lambda::Url") {
        let origins = as_list(&u["Cors"]["AllowOrigins"]);
        if origins.iter().any(|o| o.as_str().is_some_and(|s| s.contains('*'))) {
            hits.push(Hit::new(
                id,
                "CORS allows the origin `*`",
                "list the site's origin (its CloudFront domain) instead",
            ));
        } else if t.retain_data() == Some(true) && origins.is_empty() && u.get("Cors").is_some() {
            hits.push(Hit::new(
                id,
                "CORS allows no origin in an environment that keeps data",
                "allow the site's own origin",
            ));
        } else if t.retain_data() == Some(true)
            && origins.iter().any(|o| o.as_str().is_some_and(|s| s.contains("localhost")))
        {
            hits.push(Hit::new(
                id,
                "CORS allows a localhost origin in an environment that keeps data",
                "allow only the site's own origin in this environment",
            ));
        }
    }
    hits
}

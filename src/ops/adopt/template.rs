//! What synth does with `adopt:`: the app's templates rewritten so that each adopted resource
//! is the existing one (its identifier, retained forever, what it uses kept).

use super::*;

/// Defines the environment's app and applies its `adopt:` section.
pub fn define(env: &Environment) -> anyhow::Result<App> {
    let mut app = env.define()?;
    apply(env, &mut app)?;
    Ok(app)
}

/// Points each adopted construct at its existing resource: the template names it by the
/// identifier, with `Retain` for both policies (an adopted resource outlives every stack).
pub fn apply(env: &Environment, app: &mut App) -> anyhow::Result<()> {
    let can = adoptable(app);
    // (the construct's own name, the adopted one): every other mention follows the rename
    let mut renamed: Vec<(String, String)> = vec![];
    let listing = if can.is_empty() { "none".to_string() } else { can.join(", ") };
    for a in &env.adopt {
        let key = format!("adopt.{}.{}", a.stack, a.logical_id);
        let refuse = |what: String, help: String| {
            crate::config::bad_input::<()>(format!("{}: {key} {what}\nhelp: {help}", a.at)).unwrap_err()
        };
        let Some(stack) = app.stacks.iter_mut().find(|s| s.name == a.stack) else {
            let names: Vec<&str> = app.stacks.iter().map(|s| s.name.as_str()).collect();
            return Err(refuse(
                format!("names no stack of {} (its stacks: {})", app.app, names.join(", ")),
                format!("what can be adopted: {listing}"),
            ));
        };
        let region = stack.region.clone();
        let Some((id, resource)) = stack.template.resources.iter_mut().find(|(id, _)| id.as_str() == a.logical_id)
        else {
            return Err(refuse(
                format!("names no resource of stack {}", a.stack),
                format!("what can be adopted: {listing}"),
            ));
        };
        let type_name = resource.type_name.clone();
        if !importable(&type_name, &region) {
            return Err(refuse(
                format!(
                    "is a {type_name}, which CloudFormation cannot import (no read handler in its registry schema)"
                ),
                "leave it out of adopt: and keep the existing one running outside castform, or let castform create a new one in a maintenance window (docs/adopt.md)".into(),
            ));
        }
        let property = match primary_identifier(&type_name, &region) {
            Some(p) if ADOPTS.contains(&type_name.as_str()) => p,
            _ => {
                return Err(refuse(
                    format!("is a {type_name}: CloudFormation can import it, castform does not adopt it yet"),
                    format!("castform adopts {} today; what can be adopted: {listing}", ADOPTS.join(", ")),
                ));
            }
        };
        let named =
            naming(&type_name, &a.identifier).map_err(|e| refuse(e, format!("what can be adopted: {listing}")))?;
        if let Some((name_property, name)) = &named {
            let before = resource.properties.get(*name_property).and_then(Value::as_str).map(str::to_string);
            resource.properties[*name_property] = Value::String(name.clone());
            if let Some(before) = before.filter(|b| b != name) {
                renamed.push((before, name.clone()));
            }
        }
        retain(resource, "adopted", &a.identifier);
        app.adopted.push(Adopted {
            stack: a.stack.clone(),
            logical_id: id.as_str().to_string(),
            resource_type: type_name,
            property,
            identifier: a.identifier.clone(),
            at: a.at.clone(),
        });
    }
    keep_what_adopted_distributions_use(app);
    let adopted: Vec<(String, String)> = app.adopted.iter().map(|a| (a.stack.clone(), a.logical_id.clone())).collect();
    for stack in &mut app.stacks {
        for (id, resource) in stack.template.resources.iter_mut() {
            if adopted.iter().any(|(s, l)| *s == stack.name && l == id.as_str()) {
                continue;
            }
            for (before, after) in &renamed {
                rename(&mut resource.properties, before, after);
            }
        }
    }
    Ok(())
}

/// `Retain` for both policies, and why, said in the template itself (`Metadata.castform.<why>`)
/// for the rules (L05) and for whoever reads it.
fn retain(resource: &mut crate::template::Resource, why: &str, identifier: &str) {
    resource.attributes.deletion_policy = Some(DeletionPolicy::Retain);
    resource.attributes.update_replace_policy = Some(UpdateReplacePolicy::Retain);
    let mut metadata = resource.attributes.metadata.take().unwrap_or_else(|| serde_json::json!({}));
    metadata["castform"][why] = Value::String(identifier.to_string());
    resource.attributes.metadata = Some(metadata);
}

/// Retains, beside each adopted distribution, the resources of its stack it uses (directly, or
/// through a function it runs), marking each with the distribution it is kept for.
fn keep_what_adopted_distributions_use(app: &mut App) {
    let distributions: Vec<(String, String, String)> = app
        .adopted
        .iter()
        .filter(|a| a.resource_type == "AWS::CloudFront::Distribution")
        .map(|a| (a.stack.clone(), a.logical_id.clone(), a.identifier.clone()))
        .collect();
    for (stack_name, logical_id, identifier) in distributions {
        let Some(stack) = app.stacks.iter_mut().find(|s| s.name == stack_name) else { continue };
        let mut pending = vec![logical_id];
        let mut seen: Vec<String> = vec![];
        while let Some(id) = pending.pop() {
            let Some(resource) = stack.template.resources.iter().find(|(l, _)| l.as_str() == id).map(|(_, r)| r) else {
                continue;
            };
            let mut found = vec![];
            references(&resource.properties, &mut found);
            for r in found {
                if seen.contains(&r) {
                    continue;
                }
                seen.push(r.clone());
                let Some((_, used)) = stack.template.resources.iter_mut().find(|(l, _)| l.as_str() == r) else {
                    continue;
                };
                if !USED_BY_A_DISTRIBUTION.contains(&used.type_name.as_str()) {
                    continue;
                }
                retain(used, "kept_for", &identifier);
                pending.push(r);
            }
        }
    }
}

/// Replaces a construct's old physical name where another resource writes it out (an alias's
/// `FunctionName`, a URL's `TargetFunctionArn`, an ARN in a policy): whole strings, or the name
/// between separators (`/`, `:`, `*`), never inside a longer name.
pub(super) fn rename(value: &mut Value, before: &str, after: &str) {
    match value {
        Value::String(s) => {
            if !s.contains(before) {
                return;
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find(before) {
                let end = i + before.len();
                let left = rest[..i].chars().next_back();
                let right = rest[end..].chars().next();
                let bounded = |c: Option<char>| c.is_none_or(|c| matches!(c, '/' | ':' | '*' | '"'));
                out.push_str(&rest[..i]);
                out.push_str(if bounded(left) && bounded(right) { after } else { before });
                rest = &rest[end..];
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(a) => a.iter_mut().for_each(|v| rename(v, before, after)),
        Value::Object(m) => m.values_mut().for_each(|v| rename(v, before, after)),
        _ => {}
    }
}

//! Every template of every app and environment, and each manifest, as an insta snapshot in the
//! top-level `snapshots/`: a change to infrastructure is a reviewable diff.

use castform::config::{AnyApp, Registry};
use castform::ops::synth::{Format, Selection, build, render_files};
use std::path::Path;

/// `examples/catalog`, a team's own app: its templates are snapshots like the seed apps'.
#[path = "../examples/catalog/app.rs"]
mod catalog;

static EXAMPLE: &[&dyn AnyApp] = &[&catalog::Catalog];

#[test]
fn every_template_of_every_environment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut built =
        build(root, &Selection::Everything(castform::apps::seeds())).expect("every shipped environment synthesizes");
    assert!(built.len() >= 4, "the four Lunora environments at least");
    let example = build(&root.join("examples/catalog"), &Selection::Everything(Registry::new(EXAMPLE)))
        .expect("the example's environments synthesize");
    assert_eq!(example.len(), 2, "catalog's local and prod");
    built.extend(example);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut produced = vec![];
    settings.bind(|| {
        for s in &built {
            for (path, body) in render_files(s, Format::Json) {
                let file =
                    path.file_name().unwrap().to_string_lossy().replace(".template.json", "").replace(".json", "");
                let name = format!("{}__{}__{}", s.app.app, s.app.environment, file);
                insta::assert_snapshot!(name.clone(), body);
                produced.push(format!("{name}.snap"));
            }
        }
    });
    // a snapshot whose stack or environment is gone is stale and must be deleted in review
    for entry in std::fs::read_dir(root.join("snapshots")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".snap")
            && name.contains("__")
            && castform::apps::seeds().names().iter().chain(&["catalog"]).any(|a| name.starts_with(&format!("{a}__")))
        {
            assert!(produced.contains(&name), "snapshots/{name} belongs to no synthesized template: delete it");
        }
    }
}

/// Every environment's deploy role (castform bootstrap) is derived from its app's resource types,
/// fits IAM's size for a role's inline policies, and its deployer policy names only that
/// environment's stacks and role.
#[test]
fn every_environment_has_a_deploy_role_and_a_deployer_policy_of_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built =
        build(root, &Selection::Everything(castform::apps::seeds())).expect("every shipped environment synthesizes");
    for s in &built {
        let template = castform::ops::bootstrap::template(&s.env, &s.app)
            .unwrap_or_else(|e| panic!("{}/{}: {e:#}", s.app.app, s.app.environment));
        let t: serde_json::Value = serde_json::from_str(&template).unwrap();
        let role = &t["Resources"]["ExecutionRole"]["Properties"];
        assert_eq!(role["RoleName"], format!("{}-cfn-exec", s.env.prefix));
        let actions = role["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"].as_array().unwrap();
        assert!(actions.len() > 20, "{}: {actions:?}", s.env.prefix);
        let policy = castform::ops::bootstrap::deployer_policy(&s.env, &s.app).to_string();
        assert!(policy.contains(&format!("stack/{}-*/*", s.env.prefix)), "{policy}");
        assert!(policy.contains(&format!("role/{}-cfn-exec", s.env.prefix)), "{policy}");
    }
}

/// checkov's skips are the constructs' (Template::accept): each carries its reason, and the
/// checkov section of docs/rules.md names every check skipped anywhere, so a new kind of skip cannot
/// land without its explanation reaching users.
#[test]
fn every_checkov_skip_has_a_reason_and_the_readme_explains_each_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built =
        build(root, &Selection::Everything(castform::apps::seeds())).expect("every shipped environment synthesizes");
    let readme = std::fs::read_to_string(root.join("docs/rules.md")).unwrap();
    let section = readme.split("### checkov").nth(1).expect("docs/rules.md has a `### checkov` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut checks = std::collections::BTreeSet::new();
    for s in &built {
        for (path, body) in render_files(s, Format::Json) {
            let t: serde_json::Value = serde_json::from_str(&body).unwrap();
            for (id, r) in t["Resources"].as_object().into_iter().flatten() {
                for skip in r["Metadata"]["checkov"]["skip"].as_array().into_iter().flatten() {
                    let check = skip["id"].as_str().unwrap();
                    let reason = skip["comment"].as_str().unwrap_or("");
                    assert!(
                        reason.len() > 40,
                        "{}: {id} skips {check} with no real reason: {reason:?}",
                        path.display()
                    );
                    checks.insert(check.to_string());
                }
            }
        }
    }
    assert!(checks.len() >= 10, "the constructs skip the checks they answer: {checks:?}");
    for check in &checks {
        assert!(section.contains(check.as_str()), "docs/rules.md's checkov section does not explain {check}");
    }
}

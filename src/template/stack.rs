//! Stacks and apps: a template with a name, a region, the parameters it takes from other stacks'
//! outputs, and the assets it needs; an app is its stacks in dependency order, plus a manifest.

use super::TagShape;
use super::asset::{Asset, AssetError, zip_with};
use super::{Expr, LogicalId, Parameter, Template, TemplateError};
use indexmap::IndexMap;
use serde_json::{Value, json};
use std::path::Path;

/// The parameter every stack with assets takes: the name of castform's state bucket.
pub const ASSETS_BUCKET_PARAMETER: &str = "CastformAssetsBucket";

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("stack `{stack}`: {source}")]
    Template { stack: String, source: TemplateError },
    #[error("stack `{stack}`: {source}")]
    Asset { stack: String, source: AssetError },
    #[error("stack `{stack}` imports `{output}` from stack `{from}`, which {why}")]
    BadImport { stack: String, from: String, output: String, why: String },
    #[error("stacks {cycle} depend on each other in a cycle")]
    Cycle { cycle: String },
    #[error("{0}")]
    Invalid(String),
}

/// An output of a stack, to be passed to another stack as a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRef {
    pub stack: String,
    pub output: String,
}

impl OutputRef {
    /// The output `output` of the stack `stack`.
    pub fn new(stack: &str, output: &str) -> Self {
        Self { stack: stack.to_string(), output: output.to_string() }
    }
}

/// A parameter of this stack filled from another stack's output by the deploy engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub parameter: String,
    pub stack: String,
    pub output: String,
}

/// One CloudFormation stack of an app.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Short name within the app: `data`, `api`, ...
    pub name: String,
    /// The CloudFormation stack name: `<prefix>-<name>`.
    pub stack_name: String,
    pub region: String,
    /// Stateful resources are retained (rule L05).
    pub retain_data: bool,
    /// Physical names start with it.
    pub prefix: String,
    pub template: Template,
    pub imports: Vec<Import>,
    pub assets: Vec<Asset>,
    /// Stacks this one is deployed after without importing from them.
    pub after: Vec<String>,
    /// What the deploy engine does with some of the outputs, declared by the constructs that
    /// add them (output id, role).
    pub roles: Vec<(String, OutputRole)>,
}

/// What an output is to the deploy engine. Constructs declare it beside the output
/// ([`Stack::declare`]); the engine reads roles, never output names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputRole {
    /// A URL shown after a deploy and kept in its ledger entry (an API's, a WebSocket's).
    Url,
    /// The URL a site is served at: shown, and the files a deploy writes into the site's bucket
    /// are checked through it.
    SiteUrl,
    /// An HLS playlist's URL: shown; `castform media` reads it, and plays it through a site
    /// whose stack takes it as an origin.
    Playlist,
    /// A CloudFront distribution's id: invalidated after a deploy writes files.
    Distribution,
    /// The version a function's `live` alias points at; the output `name` holds the function's
    /// name. A rollback or a restore moves the alias back to the recorded version first.
    LiveVersion { name: String },
}

impl OutputRole {
    /// Shown to the user after a deploy and recorded with it.
    pub fn is_url(&self) -> bool {
        matches!(self, Self::Url | Self::SiteUrl | Self::Playlist)
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Url => json!("url"),
            Self::SiteUrl => json!("site_url"),
            Self::Playlist => json!("playlist"),
            Self::Distribution => json!("distribution"),
            Self::LiveVersion { name } => json!({"live_version_of": name}),
        }
    }
}

impl Stack {
    pub fn new(prefix: &str, name: &str, region: &str, retain_data: bool, description: &str) -> Self {
        Self {
            name: name.to_string(),
            stack_name: format!("{prefix}-{name}"),
            region: region.to_string(),
            retain_data,
            prefix: prefix.to_string(),
            template: Template::new(description),
            imports: vec![],
            assets: vec![],
            after: vec![],
            roles: vec![],
        }
    }

    fn err(&self, source: TemplateError) -> StackError {
        StackError::Template { stack: self.name.clone(), source }
    }

    /// A physical name: `<prefix>-<suffix>`.
    pub fn physical_name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }

    /// Adds an output other stacks (and the deploy's propagated files) can use.
    pub fn output(&mut self, id: &str, value: Expr<String>, description: &str) -> Result<OutputRef, StackError> {
        self.template.add_output(id, value, description).map_err(|e| self.err(e))?;
        Ok(OutputRef { stack: self.name.clone(), output: id.to_string() })
    }

    /// Declares what an output of this stack is to the deploy engine.
    pub fn declare(&mut self, output: &OutputRef, role: OutputRole) -> Result<(), StackError> {
        if output.stack != self.name || !self.template.outputs.keys().any(|k| k.as_str() == output.output) {
            return Err(StackError::Invalid(format!(
                "stack `{}` declares a role for output `{}` of stack `{}`, which it does not have",
                self.name, output.output, output.stack
            )));
        }
        self.roles.push((output.output.clone(), role));
        Ok(())
    }

    /// Takes another stack's output as a parameter of this one: `<Stack><Output>`.
    pub fn import(&mut self, from: &OutputRef) -> Result<Expr<String>, StackError> {
        if from.stack == self.name {
            return Err(StackError::BadImport {
                stack: self.name.clone(),
                from: from.stack.clone(),
                output: from.output.clone(),
                why: "is this stack itself; use the value directly".into(),
            });
        }
        let mut parameter = String::new();
        for (i, c) in from.stack.chars().enumerate() {
            parameter.push(if i == 0 { c.to_ascii_uppercase() } else { c });
        }
        parameter.push_str(&from.output);
        if let Some(existing) = self.imports.iter().find(|i| i.parameter == parameter) {
            return Ok(Expr::reference(existing.parameter.clone()));
        }
        let p = Parameter::string(&format!("Output {} of stack {} (filled in by castform)", from.output, from.stack));
        let e = self.template.add_parameter(&parameter, p).map_err(|e| self.err(e))?;
        self.imports.push(Import { parameter, stack: from.stack.clone(), output: from.output.clone() });
        Ok(e)
    }

    /// Zips `source` (relative to `root`) and returns the bucket and key to point code at.
    pub fn asset(&mut self, root: &Path, source: &Path) -> Result<(Expr<String>, Expr<String>), StackError> {
        self.asset_with(root, source, &[])
    }

    /// Like [`Stack::asset`], with files rendered at synth time added to the folder's.
    pub fn asset_with(
        &mut self,
        root: &Path,
        source: &Path,
        generated: &[(String, Vec<u8>)],
    ) -> Result<(Expr<String>, Expr<String>), StackError> {
        let (_, asset) =
            zip_with(root, source, generated).map_err(|e| StackError::Asset { stack: self.name.clone(), source: e })?;
        let bucket = if self.template.parameters.contains_key(&LogicalId::new(ASSETS_BUCKET_PARAMETER).unwrap()) {
            Expr::reference(ASSETS_BUCKET_PARAMETER)
        } else {
            let p = Parameter::string("castform's state bucket, which holds the content-addressed assets");
            self.template.add_parameter(ASSETS_BUCKET_PARAMETER, p).map_err(|e| self.err(e))?
        };
        let key = Expr::from(asset.key.as_str());
        if !self.assets.iter().any(|a| a.sha256 == asset.sha256) {
            self.assets.push(asset);
        }
        Ok((bucket, key))
    }

    /// Tags every resource with `tags` in the shape `shape_of` gives its type (none: left
    /// untagged), keeping tags a construct set itself (rule L22).
    pub fn apply_tags(&mut self, tags: &IndexMap<String, String>, shape_of: &dyn Fn(&str) -> TagShape) {
        for r in self.template.resources.values_mut() {
            let props = match r.properties.as_object_mut() {
                Some(p) => p,
                None => continue,
            };
            // a user pool takes its tags as `UserPoolTags`
            if r.type_name == "AWS::Cognito::UserPool" {
                let map = props.entry("UserPoolTags").or_insert_with(|| json!({}));
                if let Some(m) = map.as_object_mut() {
                    for (k, v) in tags {
                        m.entry(k.clone()).or_insert_with(|| json!(v));
                    }
                }
                continue;
            }
            match shape_of(&r.type_name) {
                TagShape::List => {
                    let list = props.entry("Tags").or_insert_with(|| json!([]));
                    if let Some(items) = list.as_array_mut() {
                        // the keys already there, looked up once each: linear in the tags (issue
                        // 36: 10,000 tags took 40 s)
                        let mut present: std::collections::HashSet<String> =
                            items.iter().filter_map(|t| t["Key"].as_str().map(str::to_string)).collect();
                        for (k, v) in tags {
                            if present.insert(k.clone()) {
                                items.push(json!({"Key": k, "Value": v}));
                            }
                        }
                        if items.is_empty() {
                            props.remove("Tags");
                        }
                    }
                }
                TagShape::Map => {
                    let map = props.entry("Tags").or_insert_with(|| json!({}));
                    if let Some(m) = map.as_object_mut() {
                        for (k, v) in tags {
                            m.entry(k.clone()).or_insert_with(|| json!(v));
                        }
                        if m.is_empty() {
                            props.remove("Tags");
                        }
                    }
                }
                TagShape::None => {}
            }
        }
    }
}

/// Where a value of a rendered file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileValue {
    /// A stack output, read after the stacks are deployed.
    Output(OutputRef),
    /// A value known at synth time.
    Literal(String),
    /// The id of the deployment that writes the file.
    DeploymentId,
    /// The scheme and host of `base` with the path of `path_of`: the HLS playlist through the
    /// distribution (`https://<site>/out/v1/...`) rather than at MediaPackage's own address.
    Rebased { base: OutputRef, path_of: OutputRef },
}

/// A file the deploy renders from outputs through a handlebars template and writes as one unit
/// with the others (rule D02): the site's `config.js`, the frontend's env file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Handlebars template, relative to the project root.
    pub template: String,
    /// The bucket it is written to (an output holding the bucket's name) and its key.
    pub bucket: OutputRef,
    pub key: String,
    pub content_type: String,
    /// Template variable -> value.
    pub values: Vec<(String, FileValue)>,
}

/// A folder uploaded as-is into a bucket (the site), before the rendered files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub source: String,
    pub bucket: OutputRef,
}

/// An app in one environment: its stacks in dependency order, and the files a deploy writes.
#[derive(Debug, Clone)]
pub struct App {
    pub app: String,
    pub environment: String,
    pub stacks: Vec<Stack>,
    pub uploads: Vec<Upload>,
    pub files: Vec<RenderedFile>,
    /// Outputs whose URL answers `GET <url><path>` with 200 after a deploy (rule V01).
    pub health_checks: Vec<(OutputRef, String)>,
    /// Existing resources the environment takes into its stacks (`adopt:`), imported before the
    /// first deploy that has them, never deleted by castform.
    pub adopted: Vec<Adopted>,
}

/// An existing resource a construct stands for: imported by an `IMPORT` change set, retained.
#[derive(Debug, Clone, PartialEq)]
pub struct Adopted {
    pub stack: String,
    pub logical_id: String,
    pub resource_type: String,
    /// the type's primary identifier property (`TableName`) and the existing resource's value
    pub property: String,
    pub identifier: String,
    /// where the environment file says so: `file:line:column`
    pub at: String,
}

impl App {
    /// Orders the stacks so each comes after the stacks it imports from, and validates every
    /// template and import.
    pub fn new(app: &str, environment: &str, stacks: Vec<Stack>) -> Result<Self, StackError> {
        for s in &stacks {
            s.template.validate().map_err(|e| StackError::Template { stack: s.name.clone(), source: e })?;
            for i in &s.imports {
                let Some(from) = stacks.iter().find(|f| f.name == i.stack) else {
                    return Err(StackError::BadImport {
                        stack: s.name.clone(),
                        from: i.stack.clone(),
                        output: i.output.clone(),
                        why: "is not a stack of this app".into(),
                    });
                };
                if !from.template.outputs.contains_key(
                    &LogicalId::new(&i.output)
                        .map_err(|e| StackError::Template { stack: s.name.clone(), source: e })?,
                ) {
                    return Err(StackError::BadImport {
                        stack: s.name.clone(),
                        from: i.stack.clone(),
                        output: i.output.clone(),
                        why: "has no such output".into(),
                    });
                }
            }
        }
        for s in &stacks {
            if let Some(unknown) = s.after.iter().find(|a| !stacks.iter().any(|x| &x.name == *a)) {
                return Err(StackError::Invalid(format!(
                    "stack `{}` is deployed after `{unknown}`, which is not a stack of this app",
                    s.name
                )));
            }
        }
        // Kahn's algorithm, keeping the definition order among ready stacks.
        let mut remaining = stacks;
        let mut ordered: Vec<Stack> = vec![];
        while !remaining.is_empty() {
            let ready = remaining.iter().position(|s| {
                s.imports.iter().map(|i| &i.stack).chain(&s.after).all(|d| ordered.iter().any(|o| &o.name == d))
            });
            match ready {
                Some(i) => ordered.push(remaining.remove(i)),
                None => {
                    let names: Vec<&str> = remaining.iter().map(|s| s.name.as_str()).collect();
                    return Err(StackError::Cycle { cycle: names.join(", ") });
                }
            }
        }
        Ok(Self {
            app: app.to_string(),
            environment: environment.to_string(),
            stacks: ordered,
            uploads: vec![],
            files: vec![],
            health_checks: vec![],
            adopted: vec![],
        })
    }

    /// Checks that every output a file, upload or health check names exists.
    pub fn check_wiring(&self) -> Result<(), StackError> {
        let exists = |o: &OutputRef| {
            self.stack(&o.stack).is_some_and(|s| s.template.outputs.keys().any(|k| k.as_str() == o.output))
        };
        let mut refs: Vec<(&OutputRef, String)> = vec![];
        for f in &self.files {
            refs.push((&f.bucket, format!("file {}", f.key)));
            for (name, v) in &f.values {
                match v {
                    FileValue::Output(o) => refs.push((o, format!("file {} value {name}", f.key))),
                    FileValue::Rebased { base, path_of } => {
                        refs.push((base, format!("file {} value {name}", f.key)));
                        refs.push((path_of, format!("file {} value {name}", f.key)));
                    }
                    _ => {}
                }
            }
        }
        for u in &self.uploads {
            refs.push((&u.bucket, format!("upload of {}", u.source)));
        }
        for (o, path) in &self.health_checks {
            refs.push((o, format!("health check {path}")));
        }
        for (o, what) in refs {
            if !exists(o) {
                return Err(StackError::Invalid(format!(
                    "{what} reads output `{}` of stack `{}`, which does not exist",
                    o.output, o.stack
                )));
            }
        }
        Ok(())
    }

    /// The outputs holding `role`s the predicate accepts, in stack order.
    pub fn outputs_with(&self, accept: impl Fn(&OutputRole) -> bool) -> Vec<(OutputRef, &OutputRole)> {
        self.stacks
            .iter()
            .flat_map(|s| s.roles.iter().map(|(o, r)| (OutputRef { stack: s.name.clone(), output: o.clone() }, r)))
            .filter(|(_, r)| accept(r))
            .collect()
    }

    pub fn stack(&self, name: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// The stacks a stack depends on (those it imports from, and those it is deployed after),
    /// sorted.
    pub fn dependencies(&self, name: &str) -> Vec<String> {
        let mut deps: Vec<String> = self
            .stack(name)
            .map(|s| s.imports.iter().map(|i| i.stack.clone()).chain(s.after.iter().cloned()).collect())
            .unwrap_or_default();
        deps.sort();
        deps.dedup();
        deps
    }

    /// The manifest the deploy engine reads: stacks, regions, dependencies, parameter wiring,
    /// assets with their sha256, template hashes.
    pub fn manifest(&self, format: &str) -> Value {
        let stacks: Vec<Value> = self
            .stacks
            .iter()
            .map(|s| {
                let mut params = serde_json::Map::new();
                for i in &s.imports {
                    params.insert(i.parameter.clone(), json!({"from": "output", "stack": i.stack, "output": i.output}));
                }
                if !s.assets.is_empty() {
                    params.insert(ASSETS_BUCKET_PARAMETER.into(), json!({"from": "bootstrap", "value": "bucket"}));
                }
                let body = s.template.to_json();
                json!({
                    "name": s.name,
                    "stack_name": s.stack_name,
                    "region": s.region,
                    "template": format!("{}.template.{format}", s.name),
                    "template_sha256": super::folder::sha256_hex(body.as_bytes()),
                    "depends_on": self.dependencies(&s.name),
                    "parameters": params,
                    "outputs": s.template.outputs.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
                    "roles": s.roles.iter().map(|(o, r)| (o.clone(), r.to_json())).collect::<serde_json::Map<_, _>>(),
                    "assets": s.assets.iter().map(|a| json!({
                        "source": a.source.display().to_string().replace('\\', "/"),
                        "key": a.key,
                        "sha256": a.sha256,
                        "size": a.size,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let out = |o: &OutputRef| json!({"stack": o.stack, "output": o.output});
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|f| {
                let values: serde_json::Map<String, Value> = f
                    .values
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            FileValue::Output(o) => json!({"from": "output", "stack": o.stack, "output": o.output}),
                            FileValue::Literal(l) => json!({"from": "literal", "value": l}),
                            FileValue::DeploymentId => json!({"from": "deployment_id"}),
                            FileValue::Rebased { base, path_of } => json!({
                                "from": "outputs",
                                "origin_of": {"stack": base.stack, "output": base.output},
                                "path_of": {"stack": path_of.stack, "output": path_of.output}
                            }),
                        };
                        (k.clone(), v)
                    })
                    .collect();
                json!({"template": f.template, "bucket": out(&f.bucket), "key": f.key, "content_type": f.content_type, "values": values})
            })
            .collect();
        let mut manifest = json!({
            "castform_manifest": 1,
            "app": self.app,
            "environment": self.environment,
            "stacks": stacks,
            "uploads": self.uploads.iter().map(|u| json!({"source": u.source, "bucket": out(&u.bucket)})).collect::<Vec<_>>(),
            "files": files,
            "health_checks": self.health_checks.iter().map(|(o, p)| json!({"url": out(o), "path": p})).collect::<Vec<_>>(),
        });
        if !self.adopted.is_empty() {
            manifest["adopted"] = self
                .adopted
                .iter()
                .map(|a| {
                    json!({"stack": a.stack, "logical_id": a.logical_id, "type": a.resource_type,
                           "identifier": {a.property.clone(): a.identifier}})
                })
                .collect();
        }
        manifest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::sqs::Queue;

    fn stack(name: &str) -> Stack {
        Stack::new("p", name, "us-west-2", false, name)
    }

    /// The engine reads what an output is from its declared role, never from its name: a role
    /// names an output of its own stack, and the manifest carries it.
    #[test]
    fn an_output_role_names_an_output_of_its_stack_and_reaches_the_manifest() {
        let mut a = stack("web");
        let url = a.output("Anything", Expr::from("https://x"), "d").unwrap();
        a.output("FnName", Expr::from("f"), "d").unwrap();
        let version = a.output("FnV", Expr::from("1"), "d").unwrap();
        a.declare(&url, OutputRole::SiteUrl).unwrap();
        a.declare(&version, OutputRole::LiveVersion { name: "FnName".into() }).unwrap();
        let missing = OutputRef { stack: "web".into(), output: "Nope".into() };
        let err = a.declare(&missing, OutputRole::Distribution).unwrap_err().to_string();
        assert!(err.contains("`Nope`") && err.contains("does not have"), "{err}");
        let other = OutputRef { stack: "data".into(), output: "Anything".into() };
        assert!(a.declare(&other, OutputRole::Url).is_err(), "another stack's output");
        let app = App::new("demo", "local", vec![a]).unwrap();
        assert_eq!(app.outputs_with(|r| *r == OutputRole::SiteUrl).len(), 1);
        assert_eq!(app.outputs_with(OutputRole::is_url)[0].0.output, "Anything");
        assert!(app.outputs_with(|r| *r == OutputRole::Distribution).is_empty());
        let m = app.manifest("json");
        assert_eq!(m["stacks"][0]["roles"], json!({"Anything": "site_url", "FnV": {"live_version_of": "FnName"}}));
    }

    #[test]
    fn imports_become_parameters_and_order_the_stacks() {
        let mut data = stack("data");
        let q = data.template.add("Q", &Queue::default()).unwrap();
        let out = data.output("QueueArn", q.get_att(Queue::ATTR_ARN), "arn").unwrap();
        let mut api = stack("api");
        let p = api.import(&out).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"Ref": "DataQueueArn"}));
        assert_eq!(api.import(&out).unwrap(), p, "a second import reuses the parameter");
        let app = App::new("x", "dev", vec![api, data]).unwrap();
        let names: Vec<&str> = app.stacks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["data", "api"]);
        let m = app.manifest("json");
        assert_eq!(
            m["stacks"][1]["parameters"]["DataQueueArn"],
            json!({"from": "output", "stack": "data", "output": "QueueArn"})
        );
        assert_eq!(m["stacks"][1]["depends_on"], json!(["data"]));
    }

    #[test]
    fn importing_a_missing_output_is_an_error() {
        let data = stack("data");
        let mut api = stack("api");
        api.import(&OutputRef { stack: "data".into(), output: "Nope".into() }).unwrap();
        let e = App::new("x", "dev", vec![data, api]).unwrap_err();
        assert_eq!(e.to_string(), "stack `api` imports `Nope` from stack `data`, which has no such output");
    }

    #[test]
    fn cycles_are_errors() {
        let mut a = stack("a");
        let mut b = stack("b");
        let oa = a.output("O", "x".into(), "o").unwrap();
        let ob = b.output("O", "y".into(), "o").unwrap();
        a.import(&ob).unwrap();
        b.import(&oa).unwrap();
        assert!(matches!(App::new("x", "dev", vec![a, b]), Err(StackError::Cycle { .. })));
    }

    #[test]
    fn tags_reach_every_taggable_resource_in_its_shape() {
        let mut s = stack("data");
        s.template.add("Q", &Queue::default()).unwrap();
        s.template.add("P", &crate::cfn::ssm::Parameter::new(crate::cfn::ssm::parameter::Type::String, "v")).unwrap();
        let tags: IndexMap<String, String> = [("Project".to_string(), "orders".to_string())].into_iter().collect();
        s.apply_tags(&tags, &crate::cfn::tag_shape);
        assert_eq!(
            s.template.resource("Q").unwrap().properties["Tags"],
            json!([{"Key": "Project", "Value": "orders"}])
        );
        assert_eq!(s.template.resource("P").unwrap().properties["Tags"], json!({"Project": "orders"}));
    }
}

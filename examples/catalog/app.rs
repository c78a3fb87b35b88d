//! Catalog: a team's own app on castform, written with its public API only
//! (docs/adding-an-app.md): a table of items, an API function behind a URL, and a site whose
//! distribution serves the API under `/api/*`.
//!
//! ```text
//! data (Items table) ──▶ api (Function + IAM URL) ──▶ web (Site: bucket + distribution)
//! ```

use castform::config::{Bounded, Definition, Environment, Invalid};
use castform::constructs::table::read_write;
use castform::constructs::{
    ApiOrigin, Code, Function, FunctionProps, FunctionUrl, FunctionUrlProps, Invocation, KeyType, Site, SiteProps,
    Table, TableProps, UrlAuth,
};
use castform::template::{App, FileValue, OutputRef, RenderedFile, Upload};
use serde::Deserialize;
use std::path::PathBuf;

/// The app, as the binary registers it: `castform::run(&[&Catalog])`.
pub struct Catalog;

/// Catalog's keys of an environment file (the common ones, `account`, `region`, `prefix`, ...,
/// are castform's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub api: Api,
    #[serde(default)]
    pub site: SiteFolder,
}

/// `api:`: the function's size.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Memory in MB; default 256.
    #[serde(default)]
    pub memory_mb: Option<Bounded<128, 10240>>,
    /// Timeout in seconds; default 10.
    #[serde(default)]
    pub timeout_s: Option<Bounded<1, 900>>,
}

/// `site:`: the folder uploaded to the site's bucket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteFolder {
    /// Relative to the project root; default `assets/catalog-site`.
    #[serde(default = "default_site")]
    pub folder: String,
}

impl Default for SiteFolder {
    fn default() -> Self {
        Self { folder: default_site() }
    }
}

fn default_site() -> String {
    "assets/catalog-site".into()
}

/// The function's code, relative to the project root.
const API_CODE: &str = "assets/catalog-api";

impl Definition for Catalog {
    type Config = Config;

    fn name(&self) -> &'static str {
        "catalog"
    }

    fn validate(&self, env: &Environment, config: &Config) -> Result<(), Invalid> {
        if !env.root.join(&config.site.folder).join("index.html").is_file() {
            return Err(Invalid::new(
                "site.folder",
                format!("is {:?}, which has no index.html", config.site.folder),
                "point it at the site's folder, relative to the project root",
            ));
        }
        Ok(())
    }

    fn define(&self, env: &Environment, config: &Config) -> anyhow::Result<App> {
        let stack = |name: &str, description: &str| env.stack(name, &format!("Catalog {name}: {description}"));
        let out = |stack: &str, output: &str| OutputRef { stack: stack.into(), output: output.into() };

        let mut data = stack("data", "the items table");
        Table::new(
            &mut data,
            "Items",
            TableProps {
                name: "items".into(),
                partition_key: ("itemId".into(), KeyType::String),
                ..TableProps::default()
            },
        )?;

        let mut api = stack("api", "the items API");
        let table = api.import(&out("data", "ItemsName"))?;
        let table_arn = api.import(&out("data", "ItemsArn"))?;
        let function_name = api.physical_name("api");
        let function = Function::new(
            &mut api,
            "Api",
            Code::Asset { root: env.root.clone(), path: PathBuf::from(API_CODE) },
            FunctionProps {
                name: Some(function_name),
                description: "Catalog items API".into(),
                memory_mb: config.api.memory_mb.map_or(256, |m| m.0),
                timeout_s: config.api.timeout_s.map_or(10, |t| t.0),
                environment: [("ITEMS_TABLE".to_string(), table)].into_iter().collect(),
                statements: vec![read_write(table_arn)],
                invocation: Invocation::Synchronous("its Function URL, through the distribution or signed".into()),
                ..FunctionProps::default()
            },
        )?;
        // IAM: only the distribution (through its origin access control) and signed callers
        FunctionUrl::new(&mut api, &function, FunctionUrlProps { auth: UrlAuth::Iam, ..FunctionUrlProps::default() })?;

        let mut web = stack("web", "the site and its distribution");
        let api_origin = ApiOrigin {
            url: web.import(&out("api", "ApiUrl"))?,
            invoke_target: web.import(&out("api", "ApiAliasArn"))?,
            path_pattern: "/api/*".into(),
        };
        Site::new(&mut web, "Site", SiteProps { api_origin: Some(api_origin), ..SiteProps::default() })?;

        let mut stacks = vec![data, api, web];
        for s in &mut stacks {
            castform::constructs::tag(s, &env.tags);
        }
        let mut app = App::new(self.name(), &env.name, stacks)?;
        let bucket = out("web", "SiteBucketName");
        app.uploads.push(Upload { source: config.site.folder.clone(), bucket: bucket.clone() });
        app.files.push(RenderedFile {
            template: "templates/catalog/config.js.hbs".into(),
            bucket,
            key: "config.js".into(),
            content_type: "application/javascript".into(),
            values: vec![
                ("environment".into(), FileValue::Literal(env.name.clone())),
                ("api_url".into(), FileValue::Output(out("web", "SiteUrl"))),
                ("deployment_id".into(), FileValue::DeploymentId),
            ],
        });
        // a deploy is verified when the function answers, signed and through the distribution
        app.health_checks.push((out("api", "ApiUrl"), "/health".into()));
        app.health_checks.push((out("web", "SiteUrl"), "/api/health".into()));
        app.check_wiring()?;
        Ok(app)
    }
}

//! The stacks step of every run: each stack's template and parameters, in dependency waves with
//! independent stacks together, each through a change set.

use super::*;

/// The parameters a stack takes: other stacks' outputs, and the state bucket.
pub(super) fn parameters(
    stack: &crate::template::Stack,
    outputs: &Outputs,
    state: &StateStore,
) -> Result<BTreeMap<String, String>, String> {
    let mut p = BTreeMap::new();
    for i in &stack.imports {
        let v = outputs.get(&i.stack).and_then(|o| o.get(&i.output)).ok_or_else(|| {
            format!("stack {} needs output {} of stack {}, which it does not have", stack.name, i.output, i.stack)
        })?;
        p.insert(i.parameter.clone(), v.clone());
    }
    if !stack.assets.is_empty() {
        p.insert(ASSETS_BUCKET_PARAMETER.to_string(), state.assets_bucket(&stack.region));
    }
    Ok(p)
}

pub fn stack_tags(env: &Environment) -> BTreeMap<String, String> {
    let mut t: BTreeMap<String, String> = env.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    t.insert("castform:app".into(), env.app.clone());
    t.insert("castform:environment".into(), env.name.clone());
    t
}

/// Groups stacks into waves: each wave depends only on earlier waves.
pub(super) fn waves(app: &App) -> Vec<Vec<usize>> {
    let mut level: Vec<usize> = vec![0; app.stacks.len()];
    for (i, s) in app.stacks.iter().enumerate() {
        for dep in app.dependencies(&s.name) {
            if let Some(j) = app.stacks.iter().position(|x| x.name == dep) {
                level[i] = level[i].max(level[j] + 1);
            }
        }
    }
    let max = level.iter().copied().max().unwrap_or(0);
    (0..=max).map(|l| (0..app.stacks.len()).filter(|i| level[*i] == l).collect()).collect()
}

/// What a run applies to a stack, given the outputs of the stacks before it (`None`: leave it).
pub(crate) type DesiredOf<'a> =
    dyn Fn(&crate::template::Stack, &Outputs) -> Result<Option<Desired>, String> + Sync + 'a;

/// The stacks step of every run: each stack's template and parameters from `desired_of` (given
/// the outputs of the stacks before it; `None` leaves a stack as it is), in dependency waves with
/// independent stacks together, each through a change set; recorded, and the outputs returned.
pub(crate) async fn apply_stacks<C: Cloud>(
    run: &Run<'_, C>,
    headline: &str,
    guard: Guard,
    record: &mut Record,
    desired_of: &DesiredOf<'_>,
) -> Result<Outputs, String> {
    let (cloud, _, app, _, journal, progress) = run.parts();
    let id = record.id.clone();
    let mut outputs: Outputs = BTreeMap::new();
    let _s = step(journal, "stacks");
    progress.step("stacks", headline);
    for wave in waves(app) {
        let mut desired = vec![];
        for i in &wave {
            let s = &app.stacks[*i];
            match desired_of(s, &outputs)? {
                Some(d) => desired.push(d),
                None => progress.warn(&format!("stack {} is not part of this run; left as it is", s.name)),
            }
        }
        let change_set = format!("castform-{id}");
        let results = futures::future::join_all(desired.iter().map(|d| {
            let cs = change_set.clone();
            async move {
                let mark = || touch(journal, &d.name);
                let r = stacks::apply(cloud, d, guard, &cs, progress, &mark).await;
                if r.as_ref().map(|a| a.changed).unwrap_or_else(|f| !f.untouched) {
                    touch(journal, &d.name);
                }
                (d, r)
            }
        }))
        .await;
        let mut failures = vec![];
        for (d, r) in results {
            match r {
                Ok(applied) => {
                    record.stacks.insert(
                        d.name.clone(),
                        StackRecord {
                            stack_name: d.stack_name.clone(),
                            template_sha256: sha256_hex(d.body.as_bytes()),
                            parameters: d.parameters.clone(),
                            outputs: applied.outputs.clone(),
                            status: applied.status.clone(),
                            changed: applied.changed,
                            change_set: applied.change_set.clone(),
                        },
                    );
                    outputs.insert(d.name.clone(), applied.outputs);
                }
                Err(f) => failures.push(f.to_string()),
            }
        }
        if !failures.is_empty() {
            return Err(failures.join("; "));
        }
    }
    for (o, v) in propagate::values_with(app, &outputs, OutputRole::is_url) {
        record.urls.insert(format!("{}.{}", o.stack, o.output), v);
    }
    Ok(outputs)
}

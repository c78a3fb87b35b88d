//! The fake's change sets: what CreateChangeSet computes and what ExecuteChangeSet starts, out of
//! the [`Cloud`] impl (`cloud.rs`) so that each file stays readable.

use super::template::{diff, event, same_outputs, with_template};
use super::*;

impl FakeCloud {
    pub(super) fn create_change_set_now(&self, req: &ChangeSetRequest) -> CloudResult<String> {
        let mut w = self.world();
        w.next += 1;
        let id = format!("arn:fake:changeSet/{}/{}", req.name, w.next);
        let existing = w.stacks.get(&req.stack).cloned();
        if let Some(other) = existing.as_ref().filter(|s| s.region != self.region) {
            return Err(svc(
                "CloudFormation CreateChangeSet",
                "AlreadyExistsException",
                format!(
                    "Stack [{}] exists in {} (the fake keeps stack names unique across regions)",
                    req.stack, other.region
                ),
            ));
        }
        if req.create && existing.as_ref().is_some_and(|s| s.status != "REVIEW_IN_PROGRESS") {
            return Err(svc(
                "CloudFormation CreateChangeSet",
                "AlreadyExistsException",
                format!("Stack [{}] already exists", req.stack),
            ));
        }
        if existing.is_none() {
            let sid = format!("arn:fake:stack/{}/{}", req.stack, w.next);
            w.stacks.insert(
                req.stack.clone(),
                FakeStack {
                    id: sid,
                    region: self.region.clone(),
                    status: "REVIEW_IN_PROGRESS".into(),
                    template: String::new(),
                    params: BTreeMap::new(),
                    tags: BTreeMap::new(),
                    outputs: BTreeMap::new(),
                    events: vec![],
                    pending: VecDeque::new(),
                    apply_at_end: None,
                    updated: 0,
                    stale: 0,
                },
            );
        }
        let (old, old_params) = existing
            .filter(|s| s.status != "REVIEW_IN_PROGRESS")
            .map(|s| (Some(s.template), s.params))
            .unwrap_or((None, BTreeMap::new()));
        let req = &with_template(&mut w, req)?;
        let changes = diff(old.as_deref(), &req.template_body);
        let invalid = self.faults().validation.get(&req.stack).cloned().unwrap_or_default();
        let (status, reason) = if !invalid.is_empty() {
            // early validation: the change set fails with a summary; the resources and reasons
            // are events of its operation (DescribeEvents)
            w.validation_events.insert(id.clone(), invalid);
            (
                "FAILED",
                Some("The following hook(s)/validations failed: [AWS::EarlyValidation::PropertyValidation]".into()),
            )
        } else if changes.is_empty() && old_params == req.parameters && same_outputs(old.as_deref(), &req.template_body)
        {
            ("FAILED", Some("The submitted information didn't contain changes. Submit different information to create a change set.".to_string()))
        } else {
            ("CREATE_COMPLETE", None)
        };
        w.change_sets
            .insert(id.clone(), FakeChangeSet { req: req.clone(), status: status.into(), reason, changes, polls: 0 });
        Ok(id)
    }

    pub(super) fn execute_change_set_now(&self, stack: &str, id: &str) -> CloudResult<()> {
        let faults = self.faults();
        let mut w = self.world();
        w.executed += 1;
        let cs = w
            .change_sets
            .remove(id)
            .ok_or_else(|| svc("CloudFormation ExecuteChangeSet", "ChangeSetNotFound", "no such change set"))?;
        let s = w
            .stacks
            .get_mut(stack)
            .ok_or_else(|| svc("CloudFormation ExecuteChangeSet", "ValidationError", "no such stack"))?;
        let creating = s.status == "REVIEW_IN_PROGRESS";
        let old = (!creating).then(|| s.template.clone());
        let taken = super::tables::taken(&w.tables, stack, old.as_deref(), &cs.req.template_body, &cs.req.imports);
        let s = w.stacks.get_mut(stack).expect("looked up above");
        // an import changes nothing, so the fake's injected failures are for the change sets
        // after it; a table name already taken fails any operation that would create it
        let importing = !cs.req.imports.is_empty();
        let fails = (faults.fail_stacks.contains(stack) && !importing) || taken.is_some();
        let (failed_resource, reason) = match &taken {
            Some((id, name)) => (
                (id.clone(), "AWS::DynamoDB::Table".to_string()),
                format!("Resource of type 'AWS::DynamoDB::Table' with identifier '{name}' already exists."),
            ),
            None => (
                cs.changes.first().map(|c| (c.logical_id.clone(), c.resource_type.clone())).unwrap_or_default(),
                "Resource handler returned message: injected fault".to_string(),
            ),
        };
        // an IMPORT change set runs as an import, of a new stack or an existing one ("Stack
        // status codes": IMPORT_IN_PROGRESS, IMPORT_COMPLETE, IMPORT_ROLLBACK_*,
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html)
        if faults.stale_reads.contains(stack) {
            s.stale = STALE_POLLS;
        }
        let hangs = faults.hang_stacks.contains(stack);
        let seq: Vec<&str> = match (creating, fails, faults.rollback_fails.contains(stack)) {
            _ if hangs => vec![if creating { "CREATE_IN_PROGRESS" } else { "UPDATE_IN_PROGRESS" }],
            (_, false, _) if importing => vec!["IMPORT_IN_PROGRESS", "IMPORT_COMPLETE"],
            (_, true, _) if importing => {
                vec!["IMPORT_IN_PROGRESS", "IMPORT_ROLLBACK_IN_PROGRESS", "IMPORT_ROLLBACK_COMPLETE"]
            }
            (true, false, _) => vec!["CREATE_IN_PROGRESS", "CREATE_COMPLETE"],
            (true, true, _) => {
                vec!["CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
            }
            (false, false, _) => {
                vec!["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]
            }
            (false, true, false) => vec![
                "UPDATE_IN_PROGRESS",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                "UPDATE_ROLLBACK_COMPLETE",
            ],
            (false, true, true) => {
                vec!["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED"]
            }
        };
        s.pending = seq.iter().map(|x| x.to_string()).collect();
        if fails {
            let status = if creating { "CREATE_FAILED" } else { "UPDATE_FAILED" };
            s.events
                .insert(0, event(stack, &failed_resource.0, &failed_resource.1, status, Some(&reason), Some("fake")));
        } else if !hangs {
            s.apply_at_end = Some((cs.req.template_body.clone(), cs.req.parameters.clone(), cs.req.tags.clone()));
        }
        Ok(())
    }
}

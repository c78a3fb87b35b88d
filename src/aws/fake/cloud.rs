//! The fake's answers to every [`Cloud`] call.

use super::template::{event, outputs_of, physical, resolve};
use super::*;

impl Cloud for FakeCloud {
    fn region(&self) -> &str {
        &self.region
    }

    fn for_region(&self, region: &str) -> Self {
        Self {
            region: region.into(),
            account: self.account.clone(),
            world: Arc::clone(&self.world),
            faults: Arc::clone(&self.faults),
            freeze: Arc::clone(&self.freeze),
        }
    }

    async fn caller_identity(&self) -> CloudResult<Identity> {
        self.read("STS GetCallerIdentity").await?;
        Ok(Identity { account: self.account.clone(), arn: format!("arn:aws:iam::{}:user/fake", self.account) })
    }

    async fn bucket_exists(&self, bucket: &str) -> CloudResult<bool> {
        self.read("S3 HeadBucket").await?;
        Ok(self.world().buckets.contains(bucket))
    }

    async fn create_state_bucket(&self, bucket: &str) -> CloudResult<()> {
        let lost = self.call("S3 CreateBucket").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            self.world().buckets.insert(bucket.to_string());
            Ok(())
        })();
        self.answer("S3 CreateBucket", lost, out)
    }

    async fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>, _ct: &str, if_absent: bool) -> CloudResult<()> {
        let op = format!("S3 PutObject s3://{bucket}/{key}");
        let lost = self.call("S3 PutObject").await?
            || self.faults().lost_puts.as_deref().is_some_and(|p| format!("{bucket}/{key}").starts_with(p));
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            if self.faults().deny_writes.contains(bucket) {
                return Err(svc(&op, "AccessDenied", "Access Denied"));
            }
            let mut w = self.world();
            w.buckets.insert(bucket.to_string());
            let k = (bucket.to_string(), key.to_string());
            if if_absent && w.objects.contains_key(&k) {
                return Err(CloudError::PreconditionFailed { operation: op.clone() });
            }
            w.objects.insert(k, body);
            if !bucket.starts_with("castform-") {
                w.file_puts += 1;
            }
            Ok(())
        })();
        if out.is_ok()
            && self.faults().landed_then_refused.as_deref().is_some_and(|p| format!("{bucket}/{key}").starts_with(p))
        {
            // once: the next PUT (a restore's) goes through
            self.faults.lock().unwrap_or_else(|p| p.into_inner()).landed_then_refused = None;
            return Err(svc(&op, "AccessDenied", "Access Denied"));
        }
        if lost && if_absent && out.is_ok() {
            // the SDK sends the conditional PUT again and finds the object it wrote itself
            return Err(CloudError::PreconditionFailed { operation: op });
        }
        self.answer(&op, lost, out)
    }

    async fn get_object(&self, bucket: &str, key: &str) -> CloudResult<Option<Vec<u8>>> {
        self.read("S3 GetObject").await?;
        let corrupt = self.faults().corrupt_reads;
        let got = self.world().objects.get(&(bucket.to_string(), key.to_string())).cloned();
        Ok(got.map(|mut b| {
            if corrupt.as_ref().is_some_and(|c| key.contains(c.as_str())) {
                b.push(b'!');
            }
            b
        }))
    }

    async fn put_object_if(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        _ct: &str,
        condition: IfObject<'_>,
    ) -> CloudResult<String> {
        let op = format!("S3 PutObject s3://{bucket}/{key}");
        let lost = self.call("S3 PutObject").await?;
        let etag = etag_of(&body);
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            if self.faults().deny_writes.contains(bucket) {
                return Err(svc(&op, "AccessDenied", "Access Denied"));
            }
            let mut w = self.world();
            let k = (bucket.to_string(), key.to_string());
            // as S3 answers: 412 where the condition does not hold, 404 for If-Match on no object
            // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)
            match (condition, w.objects.get(&k)) {
                (IfObject::Absent, Some(_)) => return Err(CloudError::PreconditionFailed { operation: op.clone() }),
                (IfObject::Matches(_), None) => {
                    return Err(svc(&op, "NoSuchKey", "The specified key does not exist."));
                }
                (IfObject::Matches(want), Some(now)) if etag_of(now) != want => {
                    return Err(CloudError::PreconditionFailed { operation: op.clone() });
                }
                _ => {}
            }
            if w.objects.insert(k.clone(), body).is_some() {
                *w.noncurrent.entry(k).or_default() += 1;
            }
            Ok(etag)
        })();
        if out.is_ok() && self.faults().hang_after_landing.is_some_and(|h| key.contains(&h)) {
            std::future::pending::<()>().await;
        }
        if lost && out.is_ok() {
            // the SDK sends the conditional PUT again, and the object is now its own: 412
            return Err(CloudError::PreconditionFailed { operation: op });
        }
        self.answer(&op, lost, out)
    }

    async fn get_object_tagged(&self, bucket: &str, key: &str) -> CloudResult<Option<(Vec<u8>, String)>> {
        self.read("S3 GetObject").await?;
        Ok(self.world().objects.get(&(bucket.to_string(), key.to_string())).map(|b| (b.clone(), etag_of(b))))
    }

    async fn delete_object_if(&self, bucket: &str, key: &str, etag: &str) -> CloudResult<()> {
        let op = format!("S3 DeleteObject s3://{bucket}/{key}");
        let lost = self.call("S3 DeleteObject").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            let k = (bucket.to_string(), key.to_string());
            // 412 where another version is current, 404 where none is
            // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html)
            match w.objects.get(&k) {
                None => return Err(svc(&op, "NoSuchKey", "The specified key does not exist.")),
                Some(now) if etag_of(now) != etag => {
                    return Err(CloudError::PreconditionFailed { operation: op.clone() });
                }
                Some(_) => {}
            }
            w.objects.remove(&k);
            *w.noncurrent.entry(k).or_default() += 1;
            Ok(())
        })();
        if lost && out.is_ok() {
            // the SDK's retry finds no object: 404
            return Err(svc(&op, "NoSuchKey", "The specified key does not exist."));
        }
        self.answer(&op, lost, out)
    }

    async fn object_exists(&self, bucket: &str, key: &str) -> CloudResult<bool> {
        self.read("S3 HeadObject").await?;
        Ok(self.world().objects.contains_key(&(bucket.to_string(), key.to_string())))
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> CloudResult<()> {
        let lost = self.call("S3 DeleteObject").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            if self.faults().deny_deletes.contains(bucket) {
                return Err(svc(&format!("S3 DeleteObject s3://{bucket}/{key}"), "AccessDenied", "Access Denied"));
            }
            let mut w = self.world();
            let k = (bucket.to_string(), key.to_string());
            if w.objects.remove(&k).is_some() {
                *w.noncurrent.entry(k).or_default() += 1;
            }
            Ok(())
        })();
        self.answer("S3 DeleteObject", lost, out)
    }

    async fn delete_object_versions(&self, bucket: &str, key: &str) -> CloudResult<usize> {
        let lost = self.call("S3 DeleteObjects").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            let k = (bucket.to_string(), key.to_string());
            let current = usize::from(w.objects.remove(&k).is_some());
            Ok(current + w.noncurrent.remove(&k).unwrap_or(0))
        })();
        self.answer("S3 DeleteObjects", lost, out)
    }

    async fn list_objects(&self, bucket: &str, prefix: &str) -> CloudResult<Vec<String>> {
        self.read("S3 ListObjectsV2").await?;
        let mut keys: Vec<String> = self
            .world()
            .objects
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn describe_stack(&self, stack: &str) -> CloudResult<Option<StackInfo>> {
        self.read("CloudFormation DescribeStacks").await?;
        let mut guard = self.world();
        let w = &mut *guard;
        let region = self.region.clone();
        let Some(s) = w.stacks.get_mut(stack).filter(|s| s.region == region) else { return Ok(None) };
        // one state per poll; an eventually consistent read answers as before the execution
        if s.stale > 0 {
            s.stale -= 1;
        } else if let Some(next) = s.pending.pop_front() {
            s.status = next.clone();
            let id = s.id.clone();
            s.events.insert(0, event(stack, stack, "AWS::CloudFormation::Stack", &next, None, Some(&id)));
            if s.pending.is_empty() {
                if let Some((t, p, tags)) = s.apply_at_end.take()
                    && next.ends_with("_COMPLETE")
                    && !next.contains("ROLLBACK")
                {
                    let (old, old_params) = (std::mem::take(&mut s.template), s.params.clone());
                    s.outputs = outputs_of(stack, &t, &p);
                    let before = (!old.is_empty()).then_some(old.as_str());
                    super::tables::apply(&mut w.tables, stack, before, Some(&t), &region, &self.account);
                    s.template = t.clone();
                    s.params = p;
                    s.tags = tags;
                    s.updated += 1;
                    w.retain(stack, &old, Some(&t), &old_params);
                }
                if next == "DELETE_COMPLETE" {
                    if let Some(gone) = w.stacks.remove(stack) {
                        super::tables::apply(&mut w.tables, stack, Some(&gone.template), None, &region, &self.account);
                        w.retain(stack, &gone.template, None, &gone.params);
                    }
                    return Ok(None);
                }
            }
        }
        let s = &w.stacks[stack];
        Ok(Some(StackInfo {
            name: stack.into(),
            id: s.id.clone(),
            status: s.status.clone(),
            reason: None,
            parameters: s.params.clone(),
            outputs: s.outputs.clone(),
            tags: s.tags.clone(),
            last_updated: Some(format!("update {}", s.updated)),
        }))
    }

    async fn get_template(&self, stack: &str) -> CloudResult<String> {
        self.read("CloudFormation GetTemplate").await?;
        self.world().stacks.get(stack).filter(|s| s.region == self.region).map(|s| s.template.clone()).ok_or_else(
            || svc("CloudFormation GetTemplate", "ValidationError", format!("Stack with id {stack} does not exist")),
        )
    }

    async fn list_stack_resources(&self, stack: &str) -> CloudResult<Vec<StackResource>> {
        self.read("CloudFormation ListStackResources").await?;
        let w = self.world();
        let Some(s) = w.stacks.get(stack).filter(|s| s.region == self.region) else { return Ok(vec![]) };
        let t: Value = serde_json::from_str(&s.template).unwrap_or(Value::Null);
        Ok(t["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(id, r)| StackResource {
                logical_id: id.clone(),
                physical_id: physical(stack, id, r),
                resource_type: r["Type"].as_str().unwrap_or_default().into(),
            })
            .collect())
    }

    async fn create_change_set(&self, req: &ChangeSetRequest) -> CloudResult<String> {
        let lost = self.call("CloudFormation CreateChangeSet").await?;
        let out = self.create_change_set_now(req);
        self.answer("CloudFormation CreateChangeSet", lost, out)
    }

    async fn describe_change_set(&self, _stack: &str, id: &str) -> CloudResult<ChangeSetInfo> {
        self.read("CloudFormation DescribeChangeSet").await?;
        let mut w = self.world();
        let cs = w.change_sets.get_mut(id).ok_or_else(|| {
            svc("CloudFormation DescribeChangeSet", "ChangeSetNotFound", format!("ChangeSet [{id}] does not exist"))
        })?;
        cs.polls += 1;
        // computing takes one poll
        let status = if cs.polls == 1 { "CREATE_IN_PROGRESS".to_string() } else { cs.status.clone() };
        Ok(ChangeSetInfo {
            id: id.into(),
            status,
            reason: cs.reason.clone(),
            execution_status: Some("AVAILABLE".into()),
            changes: cs.changes.clone(),
        })
    }

    async fn execute_change_set(&self, stack: &str, id: &str) -> CloudResult<()> {
        let lost = self.call("CloudFormation ExecuteChangeSet").await?;
        let out = self.execute_change_set_now(stack, id);
        self.answer("CloudFormation ExecuteChangeSet", lost, out)
    }

    async fn delete_change_set(&self, _stack: &str, id: &str) -> CloudResult<()> {
        let lost = self.call("CloudFormation DeleteChangeSet").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            self.world().change_sets.remove(id);
            Ok(())
        })();
        self.answer("CloudFormation DeleteChangeSet", lost, out)
    }

    async fn stack_events(&self, stack: &str) -> CloudResult<Vec<StackEvent>> {
        self.read("CloudFormation DescribeStackEvents").await?;
        Ok(self
            .world()
            .stacks
            .get(stack)
            .filter(|s| s.region == self.region)
            .map(|s| s.events.clone())
            .unwrap_or_default())
    }

    async fn delete_stack(&self, stack: &str) -> CloudResult<()> {
        let lost = self.call("CloudFormation DeleteStack").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            if let Some(s) = self.world().stacks.get_mut(stack).filter(|s| s.region == self.region) {
                // CloudFormation refuses to delete a stack while an update of it runs: "Stack [..]
                // cannot be deleted while in status UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
                // (aws-amplify/amplify-backend#2366; UPDATE_IN_PROGRESS in
                // aws-solutions-library-samples/guidance-for-clickstream-analytics-on-aws#573)
                if s.status.starts_with("UPDATE_") && s.status.ends_with("_IN_PROGRESS") {
                    return Err(svc(
                        "CloudFormation DeleteStack",
                        "ValidationError",
                        format!("Stack [{stack}] cannot be deleted while in status {}", s.status),
                    ));
                }
                s.pending = ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"].iter().map(|x| x.to_string()).collect();
            }
            Ok(())
        })();
        self.answer("CloudFormation DeleteStack", lost, out)
    }

    async fn cancel_update_stack(&self, stack: &str) -> CloudResult<()> {
        let lost = self.call("CloudFormation CancelUpdateStack").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            w.cancelled.push(stack.to_string());
            let s = w.stacks.get_mut(stack).filter(|s| s.region == self.region).ok_or_else(|| {
                svc("CloudFormation CancelUpdateStack", "ValidationError", format!("Stack [{stack}] does not exist"))
            })?;
            // "You can cancel only stacks that are in the UPDATE_IN_PROGRESS state"
            // (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html)
            if s.status != "UPDATE_IN_PROGRESS" {
                return Err(svc(
                    "CloudFormation CancelUpdateStack",
                    "ValidationError",
                    format!("CancelUpdateStack cannot be called from current stack status {}", s.status),
                ));
            }
            // "The stack proceeds to the UPDATE_ROLLBACK_IN_PROGRESS state. After the update
            // cancellation is complete, the stack is set to UPDATE_ROLLBACK_COMPLETE"
            // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn--stack-update-cancel.html)
            s.pending = [
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                "UPDATE_ROLLBACK_COMPLETE",
            ]
            .iter()
            .map(|x| x.to_string())
            .collect();
            s.apply_at_end = None;
            Ok(())
        })();
        self.answer("CloudFormation CancelUpdateStack", lost, out)
    }

    async fn continue_update_rollback(&self, stack: &str, skip: &[String]) -> CloudResult<()> {
        let lost = self.call("CloudFormation ContinueUpdateRollback").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            w.continued.push((stack.to_string(), skip.to_vec()));
            let s = w
                .stacks
                .get_mut(stack)
                .ok_or_else(|| svc("CloudFormation ContinueUpdateRollback", "ValidationError", "no such stack"))?;
            if s.status != "UPDATE_ROLLBACK_FAILED" {
                return Err(svc(
                    "CloudFormation ContinueUpdateRollback",
                    "ValidationError",
                    format!("Stack {stack} is in {} state and can not continue rollback", s.status),
                ));
            }
            s.pending =
                ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"].iter().map(|x| x.to_string()).collect();
            Ok(())
        })();
        self.answer("CloudFormation ContinueUpdateRollback", lost, out)
    }

    async fn detect_drift(&self, _stack: &str) -> CloudResult<String> {
        self.read("CloudFormation DetectStackDrift").await?;
        Ok("IN_SYNC".into())
    }

    async fn empty_bucket(&self, bucket: &str) -> CloudResult<usize> {
        let lost = self.call("S3 DeleteObjects").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            let before = w.objects.len();
            w.objects.retain(|(b, _), _| b != bucket);
            Ok(before - w.objects.len())
        })();
        self.answer("S3 DeleteObjects", lost, out)
    }

    async fn update_alias(&self, function: &str, alias: &str, version: &str) -> CloudResult<()> {
        let lost = self.call("Lambda UpdateAlias").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            let executed = w.executed;
            w.aliases.push(format!("{function}:{alias} -> {version} after {executed} change sets"));
            Ok(())
        })();
        self.answer("Lambda UpdateAlias", lost, out)
    }

    async fn change_set_failures(&self, _stack: &str, change_set: &str) -> CloudResult<Vec<ValidationFailure>> {
        self.read("CloudFormation DescribeEvents").await?;
        let w = self.world();
        let cs = w.change_sets.get(change_set);
        let type_of = |logical: &str| {
            cs.and_then(|c| serde_json::from_str::<Value>(&c.req.template_body).ok())
                .and_then(|t| t["Resources"][logical]["Type"].as_str().map(str::to_string))
                .unwrap_or_default()
        };
        Ok(w.validation_events
            .get(change_set)
            .into_iter()
            .flatten()
            .map(|(logical, validation, reason, path)| ValidationFailure {
                logical_id: logical.clone(),
                resource_type: type_of(logical),
                validation: validation.clone(),
                reason: reason.clone(),
                path: Some(path.clone()),
            })
            .collect())
    }

    async fn get_function(&self, name: &str) -> CloudResult<FunctionInfo> {
        self.read("Lambda GetFunction").await?;
        let w = self.world();
        for (stack, s) in &w.stacks {
            let t: Value = serde_json::from_str(&s.template).unwrap_or(Value::Null);
            for (id, r) in t["Resources"].as_object().into_iter().flatten() {
                if r["Type"] == "AWS::Lambda::Function" && physical(stack, id, r) == name {
                    let code = &r["Properties"]["Code"];
                    let bucket = resolve(&code["S3Bucket"], stack, &t, &s.params);
                    let key = resolve(&code["S3Key"], stack, &t, &s.params);
                    return Ok(FunctionInfo {
                        name: name.into(),
                        code_location: format!("fake-code://{bucket}/{key}"),
                        code_sha256: key.clone(),
                        configuration: serde_json::json!({"FunctionName": name, "CodeKey": key, "MemorySize": r["Properties"]["MemorySize"]}),
                    });
                }
            }
        }
        match w.functions.get(name) {
            Some((code, conf)) => Ok(FunctionInfo {
                name: name.into(),
                code_location: format!("fake-lambda://{name}"),
                code_sha256: crate::template::sha256_hex(code),
                configuration: conf.clone(),
            }),
            None => Err(svc("Lambda GetFunction", "ResourceNotFoundException", format!("Function not found: {name}"))),
        }
    }

    async fn update_function_code(&self, name: &str, bucket: &str, key: &str, _arch: &[String]) -> CloudResult<()> {
        let lost = self.call("Lambda UpdateFunctionCode").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            let code = w.objects.get(&(bucket.to_string(), key.to_string())).cloned().ok_or_else(|| {
                svc("Lambda UpdateFunctionCode", "InvalidParameterValueException", format!("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. ({bucket}/{key})"))
            })?;
            match w.functions.get_mut(name) {
                Some(f) => {
                    f.0 = code;
                    Ok(())
                }
                None => Err(svc(
                    "Lambda UpdateFunctionCode",
                    "ResourceNotFoundException",
                    format!("Function not found: {name}"),
                )),
            }
        })();
        self.answer("Lambda UpdateFunctionCode", lost, out)
    }

    async fn update_function_configuration(&self, name: &str, configuration: &Value) -> CloudResult<()> {
        let lost = self.call("Lambda UpdateFunctionConfiguration").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            let Some((_, conf)) = w.functions.get_mut(name) else {
                return Err(svc(
                    "Lambda UpdateFunctionConfiguration",
                    "ResourceNotFoundException",
                    format!("Function not found: {name}"),
                ));
            };
            for k in
                ["Role", "Handler", "Runtime", "Description", "MemorySize", "Timeout", "Environment", "LoggingConfig"]
            {
                if let Some(v) = configuration.get(k).filter(|v| !v.is_null()) {
                    conf[k] = v.clone();
                }
            }
            Ok(())
        })();
        self.answer("Lambda UpdateFunctionConfiguration", lost, out)
    }

    async fn invalidate(&self, distribution_id: &str, paths: &[&str]) -> CloudResult<()> {
        let lost = self.call("CloudFront CreateInvalidation").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            self.world().invalidations.push(format!("{distribution_id} {}", paths.join(" ")));
            Ok(())
        })();
        self.answer("CloudFront CreateInvalidation", lost, out)
    }

    async fn describe_channel(&self, id: &str) -> CloudResult<Option<ChannelState>> {
        self.read("MediaLive DescribeChannel").await?;
        let mut guard = self.world();
        let w = &mut *guard;
        super::moving(&mut w.moving, id, w.channels.get_mut(id).map(|(s, _)| s), ("RUNNING", "IDLE"));
        Ok(w.channels.get(id).map(|(state, class)| ChannelState {
            id: id.into(),
            name: format!("channel-{id}"),
            state: state.clone(),
            class: class.clone(),
        }))
    }

    async fn start_channel(&self, id: &str) -> CloudResult<()> {
        let lost = self.call("MediaLive StartChannel").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            match w.channels.get_mut(id) {
                Some((state, _)) if state == "IDLE" => {
                    *state = "RUNNING".into();
                    Ok(())
                }
                Some((state, _)) => {
                    Err(svc("MediaLive StartChannel", "ConflictException", format!("channel {id} is {state}")))
                }
                None => Err(svc("MediaLive StartChannel", "NotFoundException", format!("channel {id} not found"))),
            }
        })();
        self.answer("MediaLive StartChannel", lost, out)
    }

    async fn stop_channel(&self, id: &str) -> CloudResult<()> {
        let lost = self.call("MediaLive StopChannel").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| {
            let mut w = self.world();
            match w.channels.get_mut(id) {
                Some((state, _)) if state == "RUNNING" => {
                    *state = "IDLE".into();
                    Ok(())
                }
                Some((state, _)) => {
                    Err(svc("MediaLive StopChannel", "ConflictException", format!("channel {id} is {state}")))
                }
                None => Err(svc("MediaLive StopChannel", "NotFoundException", format!("channel {id} not found"))),
            }
        })();
        self.answer("MediaLive StopChannel", lost, out)
    }

    async fn describe_table(&self, name: &str) -> CloudResult<Option<TableInfo>> {
        self.read("DynamoDB DescribeTable").await?;
        Ok(self.world().tables.get(name).cloned())
    }

    async fn holds_items(&self, table: &str) -> CloudResult<bool> {
        // one item at most: named apart from a full Scan, which S3-15's tests count
        self.read("DynamoDB Scan Limit=1").await?;
        Ok(self.world().tables.get(table).is_some_and(|t| t.item_count.unwrap_or(0) > 0))
    }

    async fn list_tables(&self) -> CloudResult<Vec<String>> {
        self.read("DynamoDB ListTables").await?;
        Ok(self.world().tables.keys().cloned().collect())
    }

    async fn get_resource(&self, type_name: &str, identifier: &str) -> CloudResult<Option<serde_json::Value>> {
        self.read("CloudControl GetResource").await?;
        Ok(self.world().resources.get(&(type_name.to_string(), identifier.to_string())).cloned())
    }

    async fn list_resources(&self, type_name: &str) -> CloudResult<Vec<String>> {
        self.read("CloudControl ListResources").await?;
        Ok(self.world().resources.keys().filter(|(t, _)| t == type_name).map(|(_, id)| id.clone()).collect())
    }

    async fn describe_flow(&self, arn: &str) -> CloudResult<Option<FlowState>> {
        self.read("MediaConnect DescribeFlow").await?;
        let mut guard = self.world();
        let w = &mut *guard;
        super::moving(&mut w.moving, arn, w.flows.get_mut(arn), ("ACTIVE", "STANDBY"));
        Ok(w.flows.get(arn).map(|status| FlowState {
            arn: arn.into(),
            name: arn.rsplit(':').next().unwrap_or_default().into(),
            status: status.clone(),
            ingest_ip: "192.0.2.1".into(),
            ingest_port: Some(9998),
        }))
    }

    async fn start_flow(&self, arn: &str) -> CloudResult<()> {
        let lost = self.call("MediaConnect StartFlow").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| match self.world().flows.get_mut(arn) {
            Some(status) => {
                *status = "ACTIVE".into();
                Ok(())
            }
            None => Err(svc("MediaConnect StartFlow", "NotFoundException", format!("flow {arn} not found"))),
        })();
        self.answer("MediaConnect StartFlow", lost, out)
    }

    async fn stop_flow(&self, arn: &str) -> CloudResult<()> {
        let lost = self.call("MediaConnect StopFlow").await?;
        #[allow(clippy::redundant_closure_call)]
        let out = (|| match self.world().flows.get_mut(arn) {
            Some(status) => {
                *status = "STANDBY".into();
                Ok(())
            }
            None => Err(svc("MediaConnect StopFlow", "NotFoundException", format!("flow {arn} not found"))),
        })();
        self.answer("MediaConnect StopFlow", lost, out)
    }

    async fn http_get_signed(&self, url: &str, _service: &str, _region: &str) -> CloudResult<(u16, Vec<u8>)> {
        // the fake's health route answers signed and unsigned calls alike
        self.http_get(url).await
    }

    async fn http_get(&self, url: &str) -> CloudResult<(u16, Vec<u8>)> {
        self.read("HTTPS GET").await?;
        if let Some(name) = url.strip_prefix("fake-lambda://") {
            return Ok(match self.world().functions.get(name) {
                Some((code, _)) => (200, code.clone()),
                None => (404, vec![]),
            });
        }
        if let Some(rest) = url.strip_prefix("fake-code://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            return Ok(match self.world().objects.get(&(bucket.to_string(), key.to_string())) {
                Some(b) => (200, b.clone()),
                None => (404, vec![]),
            });
        }
        let health = self.faults().health_status;
        let w = self.world();
        // a MediaPackage endpoint serves its playlist while a channel pushes to it (RUNNING)
        let endpoint = w.stacks.iter().any(|(stack, s)| {
            let t: Value = serde_json::from_str(&s.template).unwrap_or(Value::Null);
            t["Resources"].as_object().into_iter().flatten().any(|(id, r)| {
                r["Type"] == "AWS::MediaPackage::OriginEndpoint" && url == format!("{}.Url", physical(stack, id, r))
            })
        });
        if endpoint {
            let pushing = w.channels.values().any(|(state, _)| state == "RUNNING");
            return Ok(if pushing { (200, b"#EXTM3U\n".to_vec()) } else { (404, b"no segments".to_vec()) });
        }
        for (stack, s) in &w.stacks {
            if s.outputs
                .values()
                .any(|v| url.starts_with(v.trim_end_matches('/')) && v.contains(".lambda-url.fake.test"))
            {
                if let Some(status) = health {
                    return Ok((status, b"{\"message\":\"Forbidden\"}".to_vec()));
                }
                let t: Value = serde_json::from_str(&s.template).unwrap_or(Value::Null);
                let key = t["Resources"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .find(|(_, r)| r["Type"] == "AWS::Lambda::Function")
                    .map(|(_, r)| resolve(&r["Properties"]["Code"]["S3Key"], stack, &t, &s.params))
                    .unwrap_or_default();
                return Ok((200, serde_json::json!({"status": "ok", "code": key}).to_string().into_bytes()));
            }
        }
        Ok((404, b"not found".to_vec()))
    }
}

"""IMPORT change sets, which localstack-core 2026.3.0 refuses (NotImplementedError in both engines):
existing resources taken into a new or existing stack without being created or changed.

AWS's rules, as CloudFormation applies them
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html and
"Import AWS resources into a CloudFormation stack manually"):
  - ResourcesToImport names each resource: its type, its logical id in the template and its
    identifier (the type's primary identifier, e.g. {"TableName": ...}).
  - Each resource to import is in the template with that type and has a DeletionPolicy.
  - Where the template gives the identifier property, it must equal the identifier.
  - The resource must exist, and not belong to another stack.
  - Nothing else changes in an import: no new resource that is not imported, no change to the
    stack's resources, and no change to Outputs ("As part of the import operation, you cannot
    modify or add [Outputs]", CloudFormation's message).
  - The stack ends IMPORT_COMPLETE, each imported resource IMPORT_COMPLETE.
Refusals are ValidationErrors at CreateChangeSet, as AWS answers them.

Types served here: those cloudcontrol.py reads (DynamoDB tables, S3 buckets, MediaConnect flows,
Lambda functions, CloudFront distributions), through the same readers; an import of any other type is refused as not emulated. Execution takes the existing
resource as the stack's (physical id = identifier, attributes read from the service) and calls no
create handler, so the resource and its data are untouched.
"""
import functools
import json
import logging

LOG = logging.getLogger(__name__)

# change set id -> {logical id: (type, identifier value)}
PENDING: dict = {}
# stack id -> {logical id: (type, identifier value)} while its import executes
RUNNING: dict = {}

# each type's primary identifier (its registry schema's primaryIdentifier)
PRIMARY = {"AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName",
           "AWS::MediaConnect::Flow": "FlowArn", "AWS::Lambda::Function": "FunctionName",
           "AWS::CloudFront::Distribution": "Id"}


def _read(account_id, region, type_name, identifier):
    """The resource's model as the type's read handler would answer it, or None if it does not exist."""
    from castform_emulator.cloudcontrol import read

    return read(account_id, region, type_name, identifier)


def _owned_elsewhere(state, stack_name, type_name, identifier):
    for s in state.stacks_v2.values():
        if s.stack_name == stack_name or not s.is_active():
            continue
        for r in (s.resolved_resources or {}).values():
            if r.get("Type") == type_name and r.get("PhysicalResourceId") == identifier:
                return s.stack_name
    return None


def _validate(context, request, state, ValidationError):
    from localstack.services.cloudformation import api_utils
    from localstack.services.cloudformation.engine import template_preparer

    to_import = request.get("ResourcesToImport") or []
    if not to_import:
        raise ValidationError("ResourcesToImport must be specified for an IMPORT change set.")
    probe = dict(request)
    api_utils.prepare_template_body(probe)
    template = template_preparer.parse_template(probe["TemplateBody"])
    resources = template.get("Resources") or {}
    stack_name = request["StackName"]
    existing = next((s for s in state.stacks_v2.values() if s.stack_name == stack_name and s.is_active()), None)
    before = (existing.template or {}) if existing else {}
    before_resources = before.get("Resources") or {}
    imports = {}
    for r in to_import:
        logical, type_name = r.get("LogicalResourceId"), r.get("ResourceType")
        identifier = r.get("ResourceIdentifier") or {}
        resource = resources.get(logical)
        if resource is None or resource.get("Type") != type_name:
            raise ValidationError(f"Resource {logical} of type {type_name} to import is not in the template.")
        if "DeletionPolicy" not in resource:
            raise ValidationError(
                f"The following resource(s) are missing DeletionPolicy attribute, which is required for import operations: [{logical}]")
        if type_name not in PRIMARY:
            raise ValidationError(f"castform's emulator does not import {type_name} (it imports {', '.join(PRIMARY)}).")
        key = PRIMARY[type_name]
        value = identifier.get(key)
        if not value:
            raise ValidationError(f"ResourceIdentifier of {logical} must give {key}.")
        written = (resource.get("Properties") or {}).get(key)
        if written is not None and written != value:
            raise ValidationError(
                f"The identifier value of {logical} ({key}={value}) does not match the template's value ({written}).")
        if _read(context.account_id, context.region, type_name, value) is None:
            raise ValidationError(f"Resource of type '{type_name}' with identifier '{value}' was not found.")
        other = _owned_elsewhere(state, stack_name, type_name, value)
        if other:
            raise ValidationError(f"Resource of type '{type_name}' with identifier '{value}' already belongs to stack {other}.")
        if logical in before_resources:
            raise ValidationError(f"Resource {logical} is already in stack {stack_name}.")
        imports[logical] = (type_name, value)
    for logical, resource in resources.items():
        if logical in imports:
            continue
        if logical not in before_resources:
            raise ValidationError(
                f"As part of the import operation, you cannot add resources that are not imported: [{logical}]")
        if json.dumps(resource, sort_keys=True) != json.dumps(before_resources[logical], sort_keys=True):
            raise ValidationError(f"As part of the import operation, you cannot modify resources: [{logical}]")
    for logical in before_resources:
        if logical not in resources:
            raise ValidationError(f"As part of the import operation, you cannot remove resources: [{logical}]")
    if json.dumps(template.get("Outputs") or {}, sort_keys=True) != json.dumps(before.get("Outputs") or {}, sort_keys=True):
        raise ValidationError("As part of the import operation, you cannot modify or add [Outputs]")
    return imports, existing


def install():
    from localstack.aws.api.cloudformation import ChangeAction, ChangeSetType, StackStatus
    from localstack.services.cloudformation.engine.v2 import change_set_model_executor as ex
    from localstack.services.cloudformation.engine.validations import ValidationError
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent
    from localstack.services.cloudformation.models import get_cloudformation_store
    from localstack.services.cloudformation.v2 import entities
    from localstack.services.cloudformation.v2.provider import CloudformationProviderV2

    create = CloudformationProviderV2.create_change_set

    @functools.wraps(create)
    def create_change_set(self, context, request):
        if request.get("ChangeSetType") != ChangeSetType.IMPORT:
            return create(self, context, request)
        state = get_cloudformation_store(context.account_id, context.region)
        imports, existing = _validate(context, request, state, ValidationError)
        plain = {k: v for k, v in request.items() if k != "ResourcesToImport"}
        plain["ChangeSetType"] = ChangeSetType.UPDATE if existing else ChangeSetType.CREATE
        out = create(self, context, plain)
        PENDING[out["Id"]] = imports
        return out

    CloudformationProviderV2.create_change_set = create_change_set

    describe = CloudformationProviderV2.describe_change_set

    @functools.wraps(describe)
    def describe_change_set(self, context, change_set_name, stack_name=None, *args, **kwargs):
        out = describe(self, context, change_set_name, stack_name, *args, **kwargs)
        imports = PENDING.get(out.get("ChangeSetId"))
        if imports:
            for c in out.get("Changes") or []:
                rc = c.get("ResourceChange") or {}
                if rc.get("LogicalResourceId") in imports:
                    rc["Action"] = "Import"
                    rc["PhysicalResourceId"] = imports[rc["LogicalResourceId"]][1]
        return out

    CloudformationProviderV2.describe_change_set = describe_change_set

    execute = CloudformationProviderV2.execute_change_set

    @functools.wraps(execute)
    def execute_change_set(self, context, change_set_name, stack_name=None, *args, **kwargs):
        from localstack.services.cloudformation.v2.provider import find_change_set_v2

        state = get_cloudformation_store(context.account_id, context.region)
        cs = find_change_set_v2(state, change_set_name, stack_name)
        if cs is not None and cs.change_set_id in PENDING:
            RUNNING[cs.stack.stack_id] = PENDING.pop(cs.change_set_id)
        return execute(self, context, change_set_name, stack_name, *args, **kwargs)

    CloudformationProviderV2.execute_change_set = execute_change_set

    run_action = ex.ChangeSetModelExecutor._execute_resource_action

    def _execute_resource_action(self, action, logical_resource_id, resource_type, *args, **kwargs):
        stack = self._change_set.stack
        imported = RUNNING.get(stack.stack_id, {}).get(logical_resource_id)
        if action != ChangeAction.Add or imported is None:
            return run_action(self, action, logical_resource_id, resource_type, *args, **kwargs)
        executor = self.resource_provider_executor
        original = executor.deploy_loop

        def take_existing(_provider, extra, payload):
            model = dict(payload["requestData"]["resourceProperties"] or {})
            model.update(_read(stack.account_id, stack.region_name, imported[0], imported[1]) or {})
            extra["PhysicalResourceId"] = imported[1]
            return ProgressEvent(OperationStatus.SUCCESS, resource_model=model)

        executor.deploy_loop = take_existing
        try:
            event = run_action(self, action, logical_resource_id, resource_type, *args, **kwargs)
        finally:
            executor.deploy_loop = original
        return event

    ex.ChangeSetModelExecutor._execute_resource_action = _execute_resource_action

    # an imported resource's own events and status are IMPORT_*, as on AWS
    process_event = ex.ChangeSetModelExecutor._process_event

    def _process_event(self, *, action, logical_resource_id, event_status, **kwargs):
        stack = self._change_set.stack
        if action == ChangeAction.Add and logical_resource_id in RUNNING.get(stack.stack_id, {}):
            kwargs["special_action"] = "IMPORT"
        return process_event(self, action=action, logical_resource_id=logical_resource_id,
                             event_status=event_status, **kwargs)

    ex.ChangeSetModelExecutor._process_event = _process_event

    # the stack's own statuses during an import are IMPORT_*, as on AWS
    set_status = entities.Stack.set_stack_status
    during = {
        StackStatus.CREATE_IN_PROGRESS: StackStatus.IMPORT_IN_PROGRESS,
        StackStatus.UPDATE_IN_PROGRESS: StackStatus.IMPORT_IN_PROGRESS,
        StackStatus.CREATE_COMPLETE: StackStatus.IMPORT_COMPLETE,
        StackStatus.UPDATE_COMPLETE: StackStatus.IMPORT_COMPLETE,
        StackStatus.ROLLBACK_COMPLETE: StackStatus.IMPORT_ROLLBACK_COMPLETE,
        StackStatus.UPDATE_ROLLBACK_COMPLETE: StackStatus.IMPORT_ROLLBACK_COMPLETE,
    }
    final = {StackStatus.IMPORT_COMPLETE, StackStatus.IMPORT_ROLLBACK_COMPLETE}

    def set_stack_status(self, status, reason=None):
        if self.stack_id in RUNNING and status in during:
            status = during[status]
            if status in final:
                RUNNING.pop(self.stack_id, None)
        return set_status(self, status, reason)

    entities.Stack.set_stack_status = set_stack_status

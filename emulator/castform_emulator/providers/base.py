"""What every castform resource provider shares: its registry schema, AWS-style handler failures,
and create/update/delete that poll until the service reports the resource ready.

A provider subclass defines `TYPE`, `SERVICE` (the error text's service name) and the calls:
  do_create(clients, model) -> attributes   do_update(clients, model, previous) -> attributes
  do_delete(clients, model)                 do_read(clients, model) -> attributes (raises NotFound)
and, where the service works asynchronously, `settled(clients, model, phase) -> bool`.

The registry schema (`schemas/aws-<service>-<type>.json`, vendored from AWS by xtask and copied
into the package at install) gives the physical id (primaryIdentifier) and the replacement rules
(createOnlyProperties) to localstack's engine, as AWS's registry gives them to CloudFormation's.
"""
from __future__ import annotations

import json
from pathlib import Path

from botocore.exceptions import ClientError
from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent, ResourceProvider

# the installed package carries a copy (setup-emulator); run from the source tree, the repo's own
SCHEMAS = next(p for p in (Path(__file__).parent.parent / "schemas", Path(__file__).parents[3] / "schemas") if p.is_dir())
GONE = ("NotFoundException", "NotFound", "ResourceNotFoundException", "NoSuchDistribution", "NoSuchOriginAccessControl",
        "NoSuchResponseHeadersPolicy", "NoSuchFunctionExists", "EntityNotFound")


class NotFound(Exception):
    pass


def schema(cfn_type: str) -> dict:
    _, service, name = cfn_type.split("::")
    with (SCHEMAS / f"aws-{service.lower()}-{name.lower()}.json").open() as f:
        return json.load(f)


def tag_map(tags) -> dict:
    if isinstance(tags, list):
        return {t["Key"]: t["Value"] for t in tags}
    return dict(tags or {})


def gone(e: ClientError) -> bool:
    return e.response.get("Error", {}).get("Code") in GONE


def read_or_gone(call):
    """A describe call whose not-found error becomes NotFound (read() reports it as NotFound)."""
    try:
        return call()
    except ClientError as e:
        if gone(e):
            raise NotFound() from e
        raise


def pick(model: dict, names, renames=None) -> dict:
    """The properties of `names` that are set, under the API's member names."""
    return {(renames or {}).get(k, k): model[k] for k in names if model.get(k) is not None}


class CastformProvider(ResourceProvider[dict]):
    TYPE = ""
    SERVICE = ""

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.TYPE:
            cls.SCHEMA = schema(cls.TYPE)

    # the service calls -------------------------------------------------------------------------
    def do_create(self, clients, model: dict) -> dict:
        raise NotImplementedError

    def do_update(self, clients, model: dict, previous: dict) -> dict:
        raise NotImplementedError

    def do_delete(self, clients, model: dict) -> None:
        raise NotImplementedError

    def do_read(self, clients, model: dict) -> dict:
        raise NotImplementedError

    def settled(self, clients, model: dict, phase: str) -> bool:
        return True

    # the handlers localstack's engine calls ---------------------------------------------------
    def _failed(self, e: ClientError, operation: str) -> ProgressEvent:
        err = e.response.get("Error", {})
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return ProgressEvent(
            status=OperationStatus.FAILED,
            resource_model={},
            message=f'Resource handler returned message: "{err.get("Message")}" (Service: {self.SERVICE}, '
            f"Status Code: {status}, Error Code: {err.get('Code')}, Operation: {operation})",
            error_code=err.get("Code"),
        )

    def _step(self, request, phase, act):
        ctx = request.custom_context
        clients = request.aws_client_factory
        if not ctx.get(f"{phase}_sent"):
            try:
                model = act(clients)
            except ClientError as e:
                if phase == "delete" and gone(e):
                    return ProgressEvent(OperationStatus.SUCCESS, request.desired_state)
                return self._failed(e, f"{phase}:{self.TYPE}")
            ctx[f"{phase}_sent"] = True
            ctx["model"] = model
        model = ctx["model"]
        try:
            done = self.settled(clients, model, phase)
        except ClientError as e:
            if phase == "delete" and gone(e):
                return ProgressEvent(OperationStatus.SUCCESS, model)
            return self._failed(e, f"{phase}:{self.TYPE}")
        if not done:
            return ProgressEvent(OperationStatus.IN_PROGRESS, model, custom_context=ctx)
        if phase != "delete":
            try:
                model = {**model, **self.do_read(clients, model)}
            except NotFound:
                return ProgressEvent(OperationStatus.FAILED, {}, message=f"{self.TYPE} vanished after {phase}")
        return ProgressEvent(OperationStatus.SUCCESS, model)

    def create(self, request):
        desired = dict(request.desired_state)
        return self._step(request, "create", lambda c: {**desired, **self.do_create(c, desired)})

    def update(self, request):
        desired = dict(request.desired_state)
        previous = dict(request.previous_state or {})
        ids = {k: previous[k] for k in self._read_only() if k in previous}
        return self._step(request, "update", lambda c: {**desired, **ids, **self.do_update(c, {**desired, **ids}, previous)})

    def delete(self, request):
        model = dict(request.desired_state)

        def act(c):
            self.do_delete(c, model)
            return model

        return self._step(request, "delete", act)

    def read(self, request):
        try:
            attrs = self.do_read(request.aws_client_factory, dict(request.desired_state))
        except NotFound:
            return ProgressEvent(OperationStatus.FAILED, message=f"Resource of type '{self.TYPE}' was not found.", error_code="NotFound")
        return ProgressEvent(OperationStatus.SUCCESS, {**request.desired_state, **attrs})

    def _read_only(self):
        return [p.split("/")[2] for p in self.SCHEMA.get("readOnlyProperties", []) if p.count("/") == 2]

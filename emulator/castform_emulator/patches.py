"""Fixes to localstack-core 2026.3.0's CloudFormation resource providers that castform's stacks
need, applied by run.py before the emulator starts.

AWS::Lambda::Alias: the provider has no update handler, so the engine falls back to creating
the alias again and fails with "Alias already exists" whenever FunctionVersion changes, which
is what every code deploy behind a `live` alias does. On AWS, FunctionVersion updates in place
(UpdateAlias); this handler does the same.
"""
from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent


def _update_alias(self, request):
    model = dict(request.desired_state)
    lambda_ = request.aws_client_factory.lambda_
    params = {k: model[k] for k in ("FunctionName", "Name", "FunctionVersion", "Description", "RoutingConfig") if k in model}
    result = lambda_.update_alias(**params)
    model["Id"] = result["AliasArn"]
    return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)


def apply():
    from localstack.services.lambda_.resource_providers.lambda_alias import LambdaAliasProvider

    LambdaAliasProvider.update = _update_alias

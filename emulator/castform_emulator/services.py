"""The AWS APIs localstack-core 2026.3.0 (community) does not serve, as LocalStack provider plugins:
MediaLive, MediaConnect, MediaPackage, MediaConvert's jobs, CloudFront and its KeyValueStore data API, Cognito user
pools, API Gateway v2.

localstack-core ships no API stubs for these services, so each gets a dispatch table built from
botocore's service model. An operation goes to the add-on's own handler where it has one (the
modules named below: AWS's rules, id and ARN forms, loopback endpoints) and otherwise to moto's
backend (`call_moto`), or, for a service the add-on serves alone, answers 501 "not emulated".

Enabled by naming the services in SERVICES; the plugins are "<api>:default".
"""
from localstack.aws.api import CommonServiceException
from localstack.services.plugins import Service, ServiceLifecycleHook, aws_provider


class AddOnProvider(ServiceLifecycleHook):
    def __init__(self, service: str):
        self.service = service


def _not_emulated(context, request):
    raise CommonServiceException(
        "InternalFailure",
        f"{context.service.service_name} {context.operation.name} is not emulated by castform's emulator add-on",
        status_code=501,
    )


def _service(api: str, overrides: dict, fallback_to_moto: bool = True) -> Service:
    from localstack.aws.spec import load_service
    from localstack.services.moto import call_moto

    def to_moto(context, request):
        return call_moto(context)

    default = to_moto if fallback_to_moto else _not_emulated
    table = {op: default for op in load_service(api).operation_names}
    table.update(overrides)
    return Service.for_provider(AddOnProvider(api), dispatch_table_factory=lambda _p: table)


@aws_provider(api="medialive")
def medialive():
    from castform_emulator.medialive import OVERRIDES

    return _service("medialive", OVERRIDES)


@aws_provider(api="mediaconnect")
def mediaconnect():
    from castform_emulator.mediaconnect import OVERRIDES

    return _service("mediaconnect", OVERRIDES)


@aws_provider(api="mediapackage")
def mediapackage():
    from castform_emulator.mediapackage import OVERRIDES

    return _service("mediapackage", OVERRIDES, fallback_to_moto=False)


@aws_provider(api="cloudfront")
def cloudfront():
    from castform_emulator import cdn
    from castform_emulator.cloudfront import OVERRIDES

    cdn.install()
    return _service("cloudfront", OVERRIDES, fallback_to_moto=False)


@aws_provider(api="cloudfront-keyvaluestore")
def cloudfront_keyvaluestore():
    from castform_emulator.kvs import OVERRIDES

    return _service("cloudfront-keyvaluestore", OVERRIDES, fallback_to_moto=False)


@aws_provider(api="cognito-idp")
def cognito_idp():
    from castform_emulator.cognito import OVERRIDES

    return _service("cognito-idp", OVERRIDES)


@aws_provider(api="apigatewayv2")
def apigatewayv2():
    from castform_emulator import websocket
    from castform_emulator.apigatewayv2 import OVERRIDES

    websocket.install()
    return _service("apigatewayv2", OVERRIDES)


@aws_provider(api="mediaconvert")
def mediaconvert():
    from castform_emulator.mediaconvert import OVERRIDES

    return _service("mediaconvert", OVERRIDES, fallback_to_moto=False)


@aws_provider(api="wafv2")
def wafv2():
    # web ACLs are moto's; cdn.py enforces their rate-based rules on distributions
    return _service("wafv2", {})


@aws_provider(api="cloudcontrol")
def cloudcontrol():
    from castform_emulator.cloudcontrol import OVERRIDES

    return _service("cloudcontrol", OVERRIDES, fallback_to_moto=False)

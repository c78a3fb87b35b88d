"""API Gateway v2 in front of moto-ext 5.1.28's backend: loopback endpoints and UpdateStage.

moto names every API's endpoint https://<id>.execute-api.<region>.amazonaws.com. AWS gives a
WebSocket API wss://<id>.execute-api.<region>.amazonaws.com and an HTTP API https://...
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api.html).
Here the host is <id>.execute-api.<LOCALSTACK_HOST>, with the scheme by protocol, so a client
resolving that suffix to loopback reaches this emulator. The socket itself ($connect, route
selection) is NOT served: the API, its routes, integration and stage exist and describe
themselves, nothing answers on wss://. The @connections API a backend posts with is served
(websocket.py).
moto has no UpdateStage; here it updates the stage's description, auto-deploy, variables and
settings.
"""
from localstack.services.moto import call_moto

from castform_emulator.common import host_suffix, not_found


def _backend(context):
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[context.account_id][context.region]


def _endpoint(api):
    scheme = "wss" if api.protocol_type == "WEBSOCKET" else "https"
    return f"{scheme}://{api.api_id}.execute-api.{host_suffix()}"


def create_api(context, request):
    result = call_moto(context)
    api = _backend(context).apis[result["ApiId"]]
    api.api_endpoint = _endpoint(api)
    result["ApiEndpoint"] = api.api_endpoint
    return result


def update_stage(context, request):
    api = _backend(context).apis.get(request["ApiId"])
    if api is None:
        raise not_found("NotFoundException", f"Invalid API identifier specified {request['ApiId']}")
    stage = api.stages.get(request["StageName"])
    if stage is None:
        raise not_found("NotFoundException", f"Invalid stage identifier specified {request['StageName']}")
    fields = {"Description": "description", "AutoDeploy": "auto_deploy", "StageVariables": "stage_variables",
              "DefaultRouteSettings": "default_route_settings", "RouteSettings": "route_settings",
              "AccessLogSettings": "access_log_settings"}
    for key, attr in fields.items():
        if key in request:
            setattr(stage, attr, request[key])
    from localstack.aws.connect import connect_to

    client = connect_to(aws_access_key_id=context.account_id, region_name=context.region).apigatewayv2
    out = client.get_stage(ApiId=request["ApiId"], StageName=request["StageName"])
    out.pop("ResponseMetadata", None)
    return out


OVERRIDES = {"CreateApi": create_api, "UpdateStage": update_stage}

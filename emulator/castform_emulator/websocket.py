"""The @connections API of WebSocket APIs (what a backend posts to clients with), served on the API's
own host: https://<api-id>.execute-api.<LOCALSTACK_HOST>/<stage>/@connections/<connection-id>.

AWS (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html):
POST sends the body to the client, GET describes the connection (ConnectedAt, Identity,
LastActiveAt), DELETE disconnects it. A connection that was never established, has closed, or
was disconnected answers 410 GoneException
(https://repost.aws/knowledge-center/410-gone-api-gateway).

What is NOT emulated: the socket itself. No client can connect to wss://...; a test stands in for
one through /_castform/websocket/<api-id>/<connection-id>: PUT opens the connection (as a client
connecting would, after the test has given the $connect event to the handler), GET answers what
the connection has received, DELETE closes it from the client's side.

Where the API's $connect route has a Lambda REQUEST authorizer (AuthorizationType CUSTOM), the PUT
is the connection's handshake, as API Gateway runs it
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html):
the identity source missing (route.request.querystring.<name> from the PUT's query string) is
401; the authorizer is invoked with the REQUEST event and its policy must allow the route's
methodArn, else 403; then the $connect integration is invoked with the CONNECT event carrying the
authorizer's principalId and context, and a non-2xx answer refuses the connection.
"""
import json
import time
from urllib.parse import unquote

from castform_emulator.common import LOCK

# (api id, connection id) -> {"connected_at", "last_active", "messages": [str], "open": bool}
CONNECTIONS: dict = {}
_installed = False


def _response(status, body=None):
    from localstack.http import Response

    return Response(
        json.dumps(body) if body is not None else b"",
        status=status,
        headers={"Content-Type": "application/json"} if body is not None else {},
    )


def _gone():
    return _response(410, {"message": "GoneException"})


def connections(request, api_id, stage, connection_id, **_kw):
    # SDKs percent-encode the id in the path (connection ids end in `=`)
    connection_id = unquote(connection_id)
    with LOCK:
        c = CONNECTIONS.get((api_id, connection_id))
        if c is None or not c["open"]:
            return _gone()
        if request.method == "POST":
            c["messages"].append(request.get_data().decode("utf-8", "replace"))
            c["last_active"] = time.time()
            return _response(200)
        if request.method == "DELETE":
            c["open"] = False
            return _response(204)
        return _response(
            200,
            {
                "connectedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c["connected_at"])),
                "lastActiveAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c["last_active"])),
                "identity": {"sourceIp": "127.0.0.1", "userAgent": "castform-emulator"},
            },
        )


def _find_api(api_id):
    from moto.apigatewayv2.models import apigatewayv2_backends

    for account_id, regions in apigatewayv2_backends.items():
        for region, backend in regions.items():
            if api_id in backend.apis:
                return account_id, region, backend.apis[api_id]
    return None


def _function_of(uri):
    # arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations
    return uri.split("/functions/", 1)[1].rsplit("/invocations", 1)[0]


def _invoke(account_id, region, arn, event):
    from localstack.aws.connect import connect_to

    out = connect_to(aws_access_key_id=account_id, region_name=region).lambda_.invoke(
        FunctionName=arn, Payload=json.dumps(event).encode())
    body = out["Payload"].read()
    if out.get("FunctionError"):
        return None
    return json.loads(body or b"null")


def _allows(policy, method_arn):
    import fnmatch

    statements = ((policy or {}).get("policyDocument") or {}).get("Statement") or []
    allowed = False
    for st in statements:
        resources = st.get("Resource")
        resources = [resources] if isinstance(resources, str) else resources or []
        if any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
            if st.get("Effect") == "Deny":
                return False
            allowed = allowed or st.get("Effect") == "Allow"
    return allowed


def _handshake(request, api_id, connection_id):
    """The $connect of an API whose route is authorized: None when the connection may open, else the
    refusal's response."""
    found = _find_api(api_id)
    if found is None:
        return None
    account_id, region, api = found
    route = next((r for r in api.routes.values() if r.route_key == "$connect"), None)
    if route is None or route.authorization_type != "CUSTOM":
        return None
    stage = next(iter(api.stages), "$default")
    query = {k: v for k, v in request.args.items()}
    authorizer = api.authorizers.get(route.authorizer_id)
    if authorizer is None:
        return _response(500, {"message": "Internal server error"})
    for source in authorizer.identity_source or []:
        name = source.rsplit(".", 1)[-1]
        if source.startswith("route.request.querystring.") and not query.get(name):
            return _response(401, {"message": "Unauthorized"})
    method_arn = f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/$connect"
    now = int(time.time() * 1000)
    context = {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection_id, "apiId": api_id,
               "stage": stage, "requestTimeEpoch": now, "connectedAt": now,
               "domainName": f"{api_id}.execute-api.localhost.localstack.cloud"}
    policy = _invoke(account_id, region, _function_of(authorizer.authorizer_uri), {
        "type": "REQUEST", "methodArn": method_arn, "headers": {}, "multiValueHeaders": {},
        "queryStringParameters": query, "stageVariables": {}, "requestContext": context})
    if policy is None:
        return _response(500, {"message": "Internal server error"})
    if not _allows(policy, method_arn):
        return _response(403, {"message": "Forbidden"})
    integration = api.integrations.get((route.target or "").split("/", 1)[-1])
    if integration is None:
        return _response(500, {"message": "Internal server error"})
    authorized = dict(policy.get("context") or {}, principalId=policy.get("principalId"))
    answer = _invoke(account_id, region, _function_of(integration.integration_uri), {
        "requestContext": dict(context, authorizer=authorized), "queryStringParameters": query,
        "headers": {}, "isBase64Encoded": False})
    status = (answer or {}).get("statusCode", 500) if isinstance(answer, dict) else 500
    if not 200 <= int(status) < 300:
        return _response(int(status), {"message": "the $connect route refused the connection"})
    return None


def client(request, api_id, connection_id, **_kw):
    connection_id = unquote(connection_id)
    if request.method == "PUT":
        refused = _handshake(request, api_id, connection_id)
        if refused is not None:
            return refused
    with LOCK:
        key = (api_id, connection_id)
        if request.method == "PUT":
            CONNECTIONS[key] = {"connected_at": time.time(), "last_active": time.time(), "messages": [], "open": True}
            return _response(200, {"connectionId": connection_id})
        c = CONNECTIONS.get(key)
        if c is None:
            return _response(404, {"message": f"no connection {connection_id}"})
        if request.method == "DELETE":
            c["open"] = False
            return _response(200, {"connectionId": connection_id})
        return _response(200, {"open": c["open"], "messages": list(c["messages"])})


def install():
    """Registers the routes on LocalStack's gateway router (once)."""
    global _installed
    with LOCK:
        if _installed:
            return
        _installed = True
    from localstack.services.edge import ROUTER

    ROUTER.add(
        "/<stage>/@connections/<connection_id>",
        host="<api_id>.execute-api.<regex('.*'):server>",
        endpoint=connections,
        methods=["GET", "POST", "DELETE"],
    )
    ROUTER.add("/_castform/websocket/<api_id>/<connection_id>", endpoint=client, methods=["GET", "PUT", "DELETE"])

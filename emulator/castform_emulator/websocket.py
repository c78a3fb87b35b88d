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


def client(request, api_id, connection_id, **_kw):
    connection_id = unquote(connection_id)
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

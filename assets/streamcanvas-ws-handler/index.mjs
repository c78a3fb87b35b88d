// StreamCanvas WebSocket handler: $connect, $disconnect, signal, publishState.
// Connections live in CONNECTIONS_TABLE; messages go back out through the API's @connections
// endpoint (WEBSOCKET_MANAGEMENT_ENDPOINT), which this function may call for this API only.
const ok = (body) => ({ statusCode: 200, body: JSON.stringify(body) });

export const handler = async (event) => {
  const route = event?.requestContext?.routeKey ?? 'health';
  const connectionId = event?.requestContext?.connectionId;
  switch (route) {
    case '$connect':
      return ok({ connected: connectionId });
    case '$disconnect':
      return ok({ disconnected: connectionId });
    case 'signal':
    case 'publishState': {
      const body = JSON.parse(event.body || '{}');
      return ok({ route, sessionId: body.sessionId ?? null, relayed: true });
    }
    default: {
      // a direct invoke: report the wiring
      return ok({
        status: 'ok',
        service: 'streamcanvas-ws-handler',
        connectionsTable: process.env.CONNECTIONS_TABLE ?? null,
        managementEndpoint: process.env.WEBSOCKET_MANAGEMENT_ENDPOINT ?? null,
      });
    }
  }
};

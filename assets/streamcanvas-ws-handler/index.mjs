// StreamCanvas WebSocket handler: $connect, $disconnect, signal, publishState.
// Connections live in CONNECTIONS_TABLE (with the session a client joined); session state in
// STATES_TABLE; messages go out through the API's @connections endpoint
// (WEBSOCKET_MANAGEMENT_ENDPOINT), which this function may call for this API only.
//
// The events are API Gateway's WebSocket proxy events: requestContext.routeKey, .connectionId,
// .eventType (CONNECT, MESSAGE, DISCONNECT), queryStringParameters on $connect, body on messages
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html).
// A connection that is gone answers PostToConnection with 410 GoneException; its row is removed
// (https://repost.aws/knowledge-center/410-gone-api-gateway).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
let management;
const sockets = () => (management ??= new ApiGatewayManagementApiClient({ endpoint: process.env.WEBSOCKET_MANAGEMENT_ENDPOINT }));

const reply = (statusCode, body) => ({ statusCode, body: JSON.stringify(body) });
const MAX_STATE_BYTES = 32 * 1024;

// sends one message; false when the connection is gone (and its row removed)
async function send(connectionId, message) {
  try {
    await sockets().send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(message)) }));
    return true;
  } catch (e) {
    if (e.name !== 'GoneException' && e.$metadata?.httpStatusCode !== 410) throw e;
    await documents.send(new DeleteCommand({ TableName: process.env.CONNECTIONS_TABLE, Key: { connectionId } }));
    return false;
  }
}

async function connection(connectionId) {
  const out = await documents.send(new GetCommand({ TableName: process.env.CONNECTIONS_TABLE, Key: { connectionId } }));
  return out.Item;
}

// the other connections of a session
async function members(sessionId, except) {
  const found = [];
  let ExclusiveStartKey;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: process.env.CONNECTIONS_TABLE,
        FilterExpression: 'sessionId = :s',
        ExpressionAttributeValues: { ':s': sessionId },
        ExclusiveStartKey,
      }),
    );
    found.push(...(page.Items ?? []).map((i) => i.connectionId).filter((id) => id !== except));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return found;
}

function parsed(event) {
  try {
    const b = JSON.parse(event.body || '{}');
    return b && typeof b === 'object' ? b : null;
  } catch {
    return null;
  }
}

export const handler = async (event) => {
  const route = event?.requestContext?.routeKey;
  const connectionId = event?.requestContext?.connectionId;
  if (!route) {
    // a direct invoke: report the wiring
    return reply(200, {
      status: 'ok',
      service: 'streamcanvas-ws-handler',
      connectionsTable: process.env.CONNECTIONS_TABLE ?? null,
      managementEndpoint: process.env.WEBSOCKET_MANAGEMENT_ENDPOINT ?? null,
    });
  }
  switch (route) {
    case '$connect': {
      const sessionId = event.queryStringParameters?.sessionId ?? null;
      const userId = event.requestContext.authorizer?.principalId ?? null;
      await documents.send(
        new PutCommand({
          TableName: process.env.CONNECTIONS_TABLE,
          Item: { connectionId, sessionId, userId, connectedAt: new Date(event.requestContext.connectedAt ?? Date.now()).toISOString() },
        }),
      );
      // the access log of the socket: the stage itself logs nothing (README, "checkov")
      console.log(JSON.stringify({ event: 'connect', connectionId, sessionId, userId, sourceIp: event.requestContext.identity?.sourceIp ?? null }));
      return reply(200, { connected: connectionId });
    }
    case '$disconnect':
      await documents.send(new DeleteCommand({ TableName: process.env.CONNECTIONS_TABLE, Key: { connectionId } }));
      console.log(JSON.stringify({ event: 'disconnect', connectionId }));
      return reply(200, { disconnected: connectionId });
    case 'signal': {
      // WebRTC signalling between two peers: an offer, answer or candidate for one connection
      const body = parsed(event);
      if (!body?.to || typeof body.to !== 'string') return reply(400, { error: 'signal needs `to`: the connection to signal' });
      const from = await connection(connectionId);
      const to = await connection(body.to);
      if (!to || !from || to.sessionId !== from.sessionId) return reply(404, { error: `no connection ${body.to} in this session` });
      const delivered = await send(body.to, { type: 'signal', from: connectionId, data: body.data ?? null });
      return reply(delivered ? 200 : 410, { delivered });
    }
    case 'publishState': {
      // the host's canvas state: kept in STATES_TABLE and sent to everyone else in the session
      const body = parsed(event);
      const from = await connection(connectionId);
      if (!from?.sessionId) return reply(400, { error: 'this connection joined no session (connect with ?sessionId=)' });
      const state = JSON.stringify(body?.state ?? null);
      if (state.length > MAX_STATE_BYTES) return reply(413, { error: `state is over ${MAX_STATE_BYTES} bytes` });
      const timestamp = Date.now();
      await documents.send(
        new PutCommand({ TableName: process.env.STATES_TABLE, Item: { sessionId: from.sessionId, timestamp, state, from: connectionId } }),
      );
      const targets = await members(from.sessionId, connectionId);
      const results = await Promise.all(targets.map((id) => send(id, { type: 'state', sessionId: from.sessionId, timestamp, state: body?.state ?? null })));
      const delivered = results.filter(Boolean).length;
      return reply(200, { delivered, gone: results.length - delivered });
    }
    default:
      return reply(400, { error: `no route ${route}` });
  }
};

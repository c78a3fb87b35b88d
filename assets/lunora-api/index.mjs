// Lunora Player multi-destination API (Lambda behind a Function URL).
// Routes: GET /health, GET /api/health, GET /api/presets, GET /api/sources,
//         GET /api/mediaconnect/flow/status, and seed 002's destination lifecycle
//         (destinations.mjs): GET|POST /api/destinations, GET|PUT|DELETE /api/destinations/{id},
//         POST /api/destinations/{id}/start|stop
// Configuration comes only from environment variables castform wires to the other stacks.
// AWS calls go through the AWS SDK v3 that Lambda's Node.js runtime includes (and the emulator's
// host provides the same way): nothing to bundle, no hand-written signing.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as destinations from './destinations.mjs';
import { Refused, writer } from './operators.mjs';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

// the first page of a table (Limit 100), as plain objects
async function dynamodbScan(table) {
  if (!table) throw new Error('table name is not configured');
  const out = await documents.send(new ScanCommand({ TableName: table, Limit: 100 }));
  return out.Items ?? [];
}

const VERSION = '1';

const json = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const tables = () => ({
  destinations: process.env.DESTINATIONS_TABLE,
  presets: process.env.PRESETS_TABLE,
  sessions: process.env.SESSIONS_TABLE,
  sources: process.env.SOURCES_TABLE,
  dynamicDestinations: process.env.DYNAMIC_DESTINATIONS_TABLE,
});

// a Function URL event's body (payload format 2.0): a string, base64 when isBase64Encoded
// https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
function body(event) {
  if (!event?.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // answered below
  }
  throw new destinations.HttpError(400, 'the request body must be a JSON object');
}

export const handler = async (event) => {
  const method = event?.requestContext?.http?.method ?? event?.httpMethod ?? 'GET';
  const path = event?.rawPath ?? event?.path ?? '/';
  const one = path.match(/^\/api\/destinations\/([0-9a-f-]{36})(?:\/(start|stop))?$/);
  try {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      try {
        await writer(event);
      } catch (e) {
        if (e instanceof Refused) return json(e.status, { error: e.message });
        throw e;
      }
    }
    if (method === 'GET' && (path === '/health' || path === '/api/health' || path === '/')) {
      return json(200, {
        status: 'ok',
        service: 'lunora-api',
        version: VERSION,
        environment: process.env.CASTFORM_ENVIRONMENT ?? 'unknown',
        tables: tables(),
      });
    }
    if (path === '/api/destinations') {
      if (method === 'GET') {
        const items = await destinations.list();
        return json(200, { destinations: items, count: items.length });
      }
      if (method === 'POST') return json(201, await destinations.create(body(event)));
    }
    if (one) {
      const [, id, action] = one;
      if (method === 'POST' && action === 'start') return json(202, await destinations.start(id));
      if (method === 'POST' && action === 'stop') return json(202, await destinations.stop(id));
      if (!action && method === 'GET') return json(200, await destinations.get(id));
      if (!action && method === 'PUT') return json(200, await destinations.update(id, body(event)));
      if (!action && method === 'DELETE') return json(200, await destinations.remove(id));
    }
    if (method === 'GET' && path === '/api/presets') {
      const items = await dynamodbScan(tables().presets);
      return json(200, { presets: items, count: items.length });
    }
    if (method === 'GET' && path === '/api/sources') {
      const items = await dynamodbScan(tables().sources);
      return json(200, { sources: items, count: items.length });
    }
    if (method === 'GET' && path === '/api/mediaconnect/flow/status') {
      return json(200, await destinations.flowStatus());
    }
    return json(404, { error: `no route for ${method} ${path}` });
  } catch (e) {
    if (e instanceof destinations.HttpError) return json(e.statusCode, { error: e.message });
    // an AWS service's refusal (a state conflict, a quota) is the caller's to see; anything else
    // is logged and answered without detail
    const status = e?.$metadata?.httpStatusCode;
    console.error(e);
    if (status && status >= 400 && status < 500) return json(502, { error: `${e.name}: ${e.message}` });
    return json(500, { error: 'internal error' });
  }
};

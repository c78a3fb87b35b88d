// Lunora Player multi-destination API (Lambda behind a Function URL).
// Routes: GET /health, GET /api/health, GET /api/destinations, GET /api/presets,
//         GET /api/sources, GET /api/mediaconnect/flow/status
// Configuration comes only from environment variables castform wires to the other stacks.
// AWS calls go through the AWS SDK v3 that Lambda's Node.js runtime includes (and the emulator's
// host provides the same way): nothing to bundle, no hand-written signing.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

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

export const handler = async (event) => {
  const method = event?.requestContext?.http?.method ?? event?.httpMethod ?? 'GET';
  const path = event?.rawPath ?? event?.path ?? '/';
  try {
    if (method === 'GET' && (path === '/health' || path === '/api/health' || path === '/')) {
      return json(200, {
        status: 'ok',
        service: 'lunora-api',
        version: VERSION,
        environment: process.env.CASTFORM_ENVIRONMENT ?? 'unknown',
        tables: tables(),
      });
    }
    if (method === 'GET' && path === '/api/destinations') {
      const items = await dynamodbScan(tables().destinations);
      return json(200, { destinations: items, count: items.length });
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
      const flowArn = process.env.MEDIACONNECT_FLOW_ARN;
      return json(200, { flowArn: flowArn || null, configured: Boolean(flowArn) });
    }
    return json(404, { error: `no route for ${method} ${path}` });
  } catch (e) {
    console.error(e);
    return json(500, { error: String(e?.message ?? e) });
  }
};

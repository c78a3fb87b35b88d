// Catalog items API (Lambda behind a Function URL with AuthType AWS_IAM; the site's
// distribution reaches it under /api/*). Routes: GET /health, GET /api/health,
// GET /api/items, PUT /api/items/{id}. Its table comes from ITEMS_TABLE, which castform wires.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const json = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const handler = async (event) => {
  const method = event?.requestContext?.http?.method ?? 'GET';
  const path = event?.rawPath ?? '/';
  if (method === 'GET' && (path === '/health' || path === '/api/health')) {
    return json(200, { status: 'ok', table: Boolean(process.env.ITEMS_TABLE) });
  }
  if (method === 'GET' && path === '/api/items') {
    const out = await documents.send(new ScanCommand({ TableName: process.env.ITEMS_TABLE, Limit: 100 }));
    return json(200, { count: out.Items?.length ?? 0, items: out.Items ?? [] });
  }
  const one = path.match(/^\/api\/items\/([A-Za-z0-9-]{1,64})$/);
  if (method === 'PUT' && one) {
    let item;
    try {
      const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
      item = JSON.parse(text ?? '{}');
    } catch {
      return json(400, { error: 'the body must be a JSON object' });
    }
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      return json(400, { error: 'the body must be a JSON object' });
    }
    const stored = { ...item, itemId: one[1] };
    await documents.send(new PutCommand({ TableName: process.env.ITEMS_TABLE, Item: stored }));
    return json(200, stored);
  }
  return json(404, { error: `no route for ${method} ${path}` });
};

// Podcast subscriber check: Lambda@Edge on viewer requests of the media distribution.
// A request carries the subscriber id in the `x-subscriber-id` header or the `sid` query
// parameter; it passes when the subscriber exists, is active and has not expired. Answers are
// cached in the replica for a minute, so most requests never reach DynamoDB (seed 004's
// cache-first fix; the feeds path reads the KeyValueStore through a CloudFront Function instead,
// because CloudFront allows no Lambda@Edge viewer trigger beside a CloudFront Function).
// Viewer-trigger limits: 128 MB, 5 s (rule L04).
import config from './config.mjs';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const ddb = new DynamoDBClient({ region: config.tableRegion, maxAttempts: 2 });
const cache = new Map();
const TTL_MS = 60_000;

const deny = (status, message) => ({
  status: String(status),
  statusDescription: status === 401 ? 'Unauthorized' : 'Forbidden',
  headers: {
    'content-type': [{ key: 'Content-Type', value: 'application/json' }],
    'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
  },
  body: JSON.stringify({ message }),
});

export function subscriberId(request) {
  const header = request.headers?.['x-subscriber-id']?.[0]?.value;
  if (header) return header.trim();
  const params = new URLSearchParams(request.querystring ?? '');
  return params.get('sid')?.trim() || null;
}

export function allowed(item, nowSeconds) {
  if (!item) return false;
  const status = item.status?.S;
  const expiresAt = Number(item.expiresAt?.N ?? 0);
  return status === 'active' && expiresAt > nowSeconds;
}

async function lookup(id) {
  const hit = cache.get(id);
  if (hit && hit.until > Date.now()) return hit.item;
  const out = await ddb.send(
    new GetItemCommand({
      TableName: config.tableName,
      Key: { subscriberId: { S: id } },
      ProjectionExpression: '#s, expiresAt',
      ExpressionAttributeNames: { '#s': 'status' },
    }),
  );
  cache.set(id, { item: out.Item ?? null, until: Date.now() + TTL_MS });
  return out.Item ?? null;
}

export const handler = async (event) => {
  const request = event.Records[0].cf.request;
  const id = subscriberId(request);
  if (!id) return deny(401, 'subscriber id required');
  try {
    const item = await lookup(id);
    return allowed(item, Math.floor(Date.now() / 1000)) ? request : deny(403, 'no active subscription');
  } catch (err) {
    console.error(JSON.stringify({ msg: 'subscriber lookup failed', id, error: String(err) }));
    return deny(403, 'subscription could not be checked');
  }
};

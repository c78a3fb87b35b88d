// A DynamoDB Scan over HTTPS with SigV4, using only Node's standard library, so the function
// has no dependencies to bundle and runs the same on any Node.js runtime.
import crypto from 'node:crypto';

const hmac = (key, s) => crypto.createHmac('sha256', key).update(s).digest();
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

function endpoint(region) {
  const custom = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
  return custom ? custom.replace(/\/$/, '') : `https://dynamodb.${region}.amazonaws.com`;
}

function unmarshal(av) {
  if ('S' in av) return av.S;
  if ('N' in av) return Number(av.N);
  if ('BOOL' in av) return av.BOOL;
  if ('NULL' in av) return null;
  if ('L' in av) return av.L.map(unmarshal);
  if ('M' in av) return Object.fromEntries(Object.entries(av.M).map(([k, v]) => [k, unmarshal(v)]));
  if ('SS' in av) return av.SS;
  if ('NS' in av) return av.NS.map(Number);
  return null;
}

export async function dynamodbScan(table) {
  if (!table) throw new Error('table name is not configured');
  const region = process.env.AWS_REGION;
  const url = new URL(endpoint(region));
  const body = JSON.stringify({ TableName: table, Limit: 100 });
  const now = new Date();
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-target': 'DynamoDB_20120810.Scan',
  };
  if (process.env.AWS_SESSION_TOKEN) headers['x-amz-security-token'] = process.env.AWS_SESSION_TOKEN;
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', ...names.map((h) => `${h}:${headers[h]}`), '', names.join(';'), sha256(body)].join('\n');
  const scope = `${day}/${region}/dynamodb/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${process.env.AWS_SECRET_ACCESS_KEY}`, day);
  for (const part of [region, 'dynamodb', 'aws4_request']) key = hmac(key, part);
  const signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${process.env.AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`DynamoDB Scan ${table}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return (JSON.parse(text).Items ?? []).map((item) => unmarshal({ M: item }));
}

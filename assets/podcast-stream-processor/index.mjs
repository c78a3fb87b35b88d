// Podcast stream processor: subscriber changes (DynamoDB stream, new and old images) into the
// CloudFront KeyValueStore the feed function reads. Each record is applied on its own; failed
// ones are reported back so only they are retried (3 times, then the on-failure queue).
// The region comes from Lambda's AWS_REGION, never a literal (rule L07).
import { CloudFrontKeyValueStoreClient, DescribeKeyValueStoreCommand, PutKeyCommand, DeleteKeyCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import '@aws-sdk/signature-v4a';

const kvs = new CloudFrontKeyValueStoreClient({ region: process.env.AWS_REGION });
const KvsARN = process.env.KVS_ARN;

export function change(record) {
  const keys = record.dynamodb?.Keys;
  const id = keys?.subscriberId?.S;
  if (!id) return null;
  if (record.eventName === 'REMOVE') return { op: 'delete', id };
  const image = record.dynamodb?.NewImage ?? {};
  const value = {
    status: image.status?.S ?? 'unknown',
    tier: image.tier?.S ?? 'free',
    expiresAt: Number(image.expiresAt?.N ?? 0),
  };
  return value.status === 'active' ? { op: 'put', id, value } : { op: 'delete', id };
}

async function etag() {
  const d = await kvs.send(new DescribeKeyValueStoreCommand({ KvsARN }));
  return d.ETag;
}

export const handler = async (event) => {
  const batchItemFailures = [];
  for (const record of event.Records ?? []) {
    const c = change(record);
    if (!c) continue;
    try {
      const IfMatch = await etag();
      if (c.op === 'put') {
        await kvs.send(new PutKeyCommand({ KvsARN, Key: c.id, Value: JSON.stringify(c.value), IfMatch }));
      } else {
        await kvs.send(new DeleteKeyCommand({ KvsARN, Key: c.id, IfMatch })).catch((e) => {
          if (e.name !== 'ResourceNotFoundException') throw e;
        });
      }
      console.log(JSON.stringify({ msg: 'synced', op: c.op, id: c.id, event: record.eventName }));
    } catch (err) {
      console.error(JSON.stringify({ msg: 'sync failed', id: c.id, error: String(err) }));
      batchItemFailures.push({ itemIdentifier: record.dynamodb?.SequenceNumber });
    }
  }
  return { batchItemFailures };
};

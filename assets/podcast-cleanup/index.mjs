// Podcast subscriber cleanup, run by EventBridge Scheduler: active subscriptions whose
// `expiresAt` has passed are found through the ExpiryIndex (status + expiresAt) and marked
// expired; the stream processor then removes them from the KeyValueStore.
import { DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

const ddb = new DynamoDBClient({ region: process.env.AWS_REGION });

export const handler = async () => {
  const now = Math.floor(Date.now() / 1000);
  let expired = 0;
  let ExclusiveStartKey;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: process.env.TABLE_NAME,
        IndexName: process.env.EXPIRY_INDEX,
        KeyConditionExpression: '#s = :active AND expiresAt < :now',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':active': { S: 'active' }, ':now': { N: String(now) } },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      await ddb.send(
        new UpdateItemCommand({
          TableName: process.env.TABLE_NAME,
          Key: { subscriberId: item.subscriberId },
          UpdateExpression: 'SET #s = :expired',
          ConditionExpression: '#s = :active',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':expired': { S: 'expired' }, ':active': { S: 'active' } },
        }),
      );
      expired += 1;
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  console.log(JSON.stringify({ msg: 'cleanup done', expired }));
  return { expired };
};

// Podcast feed access: a CloudFront Function (cloudfront-js-2.0) on viewer requests of /feeds/*.
// It reads the subscriber from the KeyValueStore associated with it (rule L11); the stream
// processor keeps the store in sync with the subscriber table.
import cf from 'cloudfront';

const kvs = cf.kvs();

function deny(code, text) {
  return { statusCode: code, statusDescription: text, headers: { 'cache-control': { value: 'no-store' } } };
}

async function handler(event) {
  var request = event.request;
  var header = request.headers['x-subscriber-id'];
  var sid = header ? header.value : (request.querystring.sid ? request.querystring.sid.value : '');
  if (!sid) {
    return deny(401, 'Unauthorized');
  }
  try {
    var entry = await kvs.get(sid, { format: 'json' });
    if (entry && entry.status === 'active' && entry.expiresAt > Date.now() / 1000) {
      return request;
    }
  } catch (err) {
    // a missing key throws: not a subscriber
  }
  return deny(403, 'Forbidden');
}

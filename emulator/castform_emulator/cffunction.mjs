// castform emulator: runs one CloudFront Function (cloudfront-js-2.0) for the CDN data plane.
// stdin: {"code": source, "event": CloudFront Functions event, "kvs": {key: value}}; stdout: the
// function's result as JSON. The `cloudfront` module gives kvs() over the associated store's
// items, with get(key, {format: 'string'|'json'|'bytes'}) throwing for a missing key, exists()
// and meta(), as AWS documents them:
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-custom-methods.html
// The code runs in its own V8 context with a 1 s limit; AWS's limits (compute utilization, the
// runtime's missing features) are not modelled.
import fs from 'node:fs';
import vm from 'node:vm';

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const items = input.kvs ?? {};
const cf = {
  kvs: () => ({
    async get(key, options) {
      if (!Object.hasOwn(items, key)) throw new Error(`KeyValueStore key not found: ${key}`);
      const value = items[key];
      const format = options?.format ?? 'string';
      if (format === 'json') return JSON.parse(value);
      if (format === 'bytes') return new TextEncoder().encode(value);
      return value;
    },
    async exists(key) {
      return Object.hasOwn(items, key);
    },
    async meta() {
      return { keyCount: Object.keys(items).length };
    },
  }),
};
const body = input.code.replace(/^\s*import\s+(\w+)\s+from\s+['"]cloudfront['"];?\s*$/m, 'const $1 = __cf;');
const context = vm.createContext({ __cf: cf, __event: input.event, console });
try {
  const result = await vm.runInContext(`(async () => {\n${body}\n;return handler(__event);\n})()`, context, { timeout: 1000 });
  process.stdout.write(JSON.stringify({ result: result ?? null }));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e?.stack ?? e) }));
}

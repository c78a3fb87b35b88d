// StreamCanvas code executor: runs a snippet of JavaScript in a fresh V8 context with a time
// limit, without access to the function's environment, modules or network.
import vm from 'node:vm';

export const handler = async (event) => {
  const code = typeof event?.code === 'string' ? event.code : '';
  const logs = [];
  const sandbox = { console: { log: (...a) => logs.push(a.map(String).join(' ')) } };
  try {
    const result = vm.runInNewContext(code, sandbox, { timeout: 2000 });
    return { ok: true, result: result === undefined ? null : String(result), logs };
  } catch (e) {
    return { ok: false, error: String(e?.message ?? e), logs };
  }
};

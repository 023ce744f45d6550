/** Waits until a proxy answers the benchmark request with `200 hello`. */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export const ORIGIN_BODY = 'hello';

export function getOnce(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Polls until `200 hello`; throws after `timeoutMs`, or as soon as `alive()` says the process died. */
export async function waitServing(
  port: number,
  path: string,
  headers: Record<string, string>,
  timeoutMs: number,
  alive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`exited before serving (${last})`);
    try {
      const r = await getOnce(port, path, headers);
      if (r.status === 200 && r.body === ORIGIN_BODY) return;
      last = `${r.status} ${JSON.stringify(r.body.slice(0, 80))}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`not serving 200 ${ORIGIN_BODY} after ${timeoutMs} ms (last: ${last})`);
}

/**
 * The reference ceiling: the least a Node.js proxy can do. node:http
 * downstream, one undici Pool upstream through `dispatch()` (no promise,
 * no stream per request), hop-by-hop headers stripped and nothing else.
 * No routing, no X-Forwarded-*, no request id.
 */
import http from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { HOST, ORIGIN, PORT } from './env.ts';

const pool = new Pool(ORIGIN, { connections: 256, pipelining: 1 });

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

function strip(raw: readonly (string | Buffer)[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString();
    if (HOP.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1].toString());
  }
  return out;
}

class Forward implements Dispatcher.DispatchHandler {
  constructor(private readonly res: http.ServerResponse) {}
  onConnect(): void {}
  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    this.res.writeHead(status, strip(raw));
    this.res.on('drain', resume);
    return true;
  }
  onData(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }
  onComplete(): void {
    this.res.end();
  }
  onError(): void {
    if (this.res.headersSent) this.res.destroy();
    else this.res.writeHead(502).end();
  }
}

http
  .createServer((req, res) => {
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    pool.dispatch(
      { method: req.method ?? 'GET', path: req.url ?? '/', headers: strip(req.rawHeaders), body: hasBody ? req : null },
      new Forward(res),
    );
  })
  .listen(PORT, HOST);

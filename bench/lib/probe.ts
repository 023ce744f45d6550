/**
 * Is a row serving, and serving what it should? One request of the row's
 * section, checked by a client that sees more than the load generators do:
 * over TLS, the protocol and cipher the handshake chose; for gRPC, the
 * status, the message and the `grpc-status: 0` trailer (h2load cannot see
 * trailers). The answer's description goes into the results.
 */
import http2 from 'node:http2';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { getOnce, ORIGIN_BODY } from './http-check.ts';
import type { LoadSpec, Section } from './load.ts';

export interface ProbeResult {
  ok: boolean;
  /** What was seen: `200 hello`, `TLSv1.3 TLS_AES_256_GCM_SHA384`, `grpc-status 0 in trailers, ...`. */
  detail: string;
}

const TIMEOUT_MS = 2000;

function httpsOnce(port: number, spec: LoadSpec): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: spec.path,
        headers: spec.headers,
        agent: false,
        timeout: TIMEOUT_MS,
        rejectUnauthorized: false, // self-signed, made for this run
      },
      (res) => {
        const sock = res.socket as TLSSocket;
        const tls = `${sock.getProtocol() ?? '?'} ${sock.getCipher().standardName}`;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ ok: res.statusCode === 200 && body === ORIGIN_BODY, detail: `${res.statusCode} ${tls}` }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** One HTTP/2 (prior knowledge) request; resolves with status, headers, body and trailers. */
function h2Once(
  port: number,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer | null,
): Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => session.destroy(new Error('timeout')), TIMEOUT_MS);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    const stream = session.request(headers, { endStream: body === null });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (head = h));
    stream.on('trailers', (t: http2.IncomingHttpHeaders) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', fail);
    stream.on('end', () => {
      clearTimeout(timer);
      session.close();
      resolve({ headers: head, body: Buffer.concat(chunks), trailers });
    });
    if (body !== null) stream.end(body);
  });
}

async function grpcOnce(port: number, spec: LoadSpec): Promise<ProbeResult> {
  const r = await h2Once(
    port,
    {
      ':method': 'POST',
      ':path': spec.grpcPath,
      'content-type': 'application/grpc',
      te: 'trailers',
    },
    spec.grpcRequest,
  );
  const status = Number(r.headers[':status']);
  const type = String(r.headers['content-type'] ?? '');
  // Trailers-only responses put grpc-status in the headers; a real OK has a message, then trailers.
  const grpcStatus = String(r.trailers['grpc-status'] ?? 'missing');
  const framed = r.body.length >= 5 && r.body[0] === 0 && r.body.readUInt32BE(1) === r.body.length - 5;
  const ok = status === 200 && type.startsWith('application/grpc') && grpcStatus === '0' && framed;
  return {
    ok,
    detail:
      `:status ${status}, ${type || 'no content-type'}, ${r.body.length}-byte ${framed ? 'message' : 'body (not a gRPC message)'}, ` +
      `trailers: grpc-status ${grpcStatus}`,
  };
}

export async function probeOnce(section: Section, port: number, spec: LoadSpec): Promise<ProbeResult> {
  switch (section) {
    case 'http1': {
      const r = await getOnce(port, spec.path, spec.headers);
      return {
        ok: r.status === 200 && r.body === ORIGIN_BODY,
        detail: `${r.status} ${JSON.stringify(r.body.slice(0, 80))}`,
      };
    }
    case 'https':
    case 'https-close':
      return httpsOnce(port, spec);
    case 'h2c': {
      const h: http2.OutgoingHttpHeaders = { ':path': spec.path };
      for (const [k, v] of Object.entries(spec.headers))
        h[k.toLowerCase() === 'host' ? ':authority' : k.toLowerCase()] = v;
      const r = await h2Once(port, h, null);
      const body = r.body.toString('utf8');
      const status = Number(r.headers[':status']);
      return {
        ok: status === 200 && body === ORIGIN_BODY,
        detail: `${status} ${JSON.stringify(body.slice(0, 80))} over h2c`,
      };
    }
    case 'grpc':
      return grpcOnce(port, spec);
  }
}

/** Polls until the probe passes; throws after `timeoutMs`, or as soon as `alive()` says the process died. */
export async function waitReady(
  section: Section,
  port: number,
  spec: LoadSpec,
  timeoutMs: number,
  alive: () => boolean,
): Promise<ProbeResult> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`exited before serving (${last})`);
    try {
      const r = await probeOnce(section, port, spec);
      if (r.ok) return r;
      last = r.detail;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`not serving the ${section} request after ${timeoutMs} ms (last: ${last})`);
}

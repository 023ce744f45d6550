/**
 * The response half of a downstream HTTP/2 stream, in the shape the request
 * path writes to (node's ServerResponse subset, see DownstreamResponse):
 * flat header lists become an HTTP/2 header object without the
 * connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), trailers are
 * sent after the body. Thinner than node's compatibility API: no request
 * object, no socket proxy, no per-request listeners beyond 'wantTrailers'.
 */
import http2, { type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { DownstreamResponse } from '../http/request-context.ts';

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** 1 at the lengths of the names dropped from HTTP/2 responses. */
const MAYBE_DROPPED = new Uint8Array(32);
for (const n of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']) {
  MAYBE_DROPPED[n.length] = 1;
}

export class H2Response implements DownstreamResponse {
  /** Unused over HTTP/2 (the session outlives any one response). */
  shouldKeepAlive = true;
  private trailers: OutgoingHttpHeaders | null = null;

  constructor(readonly stream: ServerHttp2Stream) {}

  writeHead(status: number, headers: string[]): this {
    this.stream.respond(toH2Headers(status, headers), { waitForTrailers: true });
    this.stream.once('wantTrailers', () => this.sendTrailers());
    return this;
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  end(body?: Buffer): void {
    if (body === undefined || body.length === 0) this.stream.end();
    else this.stream.end(body);
  }

  addTrailers(trailers: Array<[string, string]>): void {
    const t: OutgoingHttpHeaders = {};
    for (const [name, value] of trailers) appendValue(t, name.toLowerCase(), value);
    this.trailers = t;
  }

  /** Cuts the stream (RST_STREAM INTERNAL_ERROR): the client sees a failed response, not a short one. */
  destroy(): void {
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  writeContinue(): void {
    if (!this.stream.headersSent && !this.stream.destroyed) this.stream.additionalHeaders({ ':status': 100 });
  }

  on(event: 'drain', listener: () => void): this {
    this.stream.on(event, listener);
    return this;
  }

  private sendTrailers(): void {
    // No trailers: node ends the stream with an empty DATA frame.
    if (!this.stream.destroyed) this.stream.sendTrailers(this.trailers ?? {});
  }
}

function toH2Headers(status: number, flat: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': status };
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    if (MAYBE_DROPPED[name.length] === 1 && isConnectionSpecific(name)) continue;
    appendValue(out, name, flat[i + 1]);
  }
  return out;
}

function isConnectionSpecific(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
    case 'http2-settings':
      return true;
    default:
      return false;
  }
}

function appendValue(h: OutgoingHttpHeaders, name: string, value: string): void {
  const prev = h[name];
  if (prev === undefined) h[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else h[name] = [String(prev), value];
}

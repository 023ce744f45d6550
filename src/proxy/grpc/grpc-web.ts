/**
 * gRPC-Web (grpc/grpc PROTOCOL-WEB.md), as Envoy's grpc_web filter does it:
 * a browser's request (HTTP/1.1 or HTTP/2, `application/grpc-web[+proto]`
 * or base64 `application/grpc-web-text[+proto]`) goes to the backend as
 * plain gRPC, and the backend's response comes back with its trailers moved
 * into the body as a last length-prefixed frame flagged 0x80, base64
 * encoded for `-text`. Message frames themselves pass through untouched and
 * unbuffered (base64 only holds back the last 0-2 bytes of a chunk).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { getHeader, nameIs, removeHeader, setHeader } from '../http/headers.ts';
import { trailerFrame } from './frames.ts';
import { grpcFormat } from './kind.ts';

/** Upstream content-type for a grpc-web one: the same format suffix on `application/grpc`. */
export function upstreamContentType(webContentType: string): string {
  return `application/grpc${grpcFormat(webContentType)}`;
}

/**
 * Request headers for the backend (flat list, edited in place): gRPC
 * content-type, `te: trailers` (gRPC servers require it), no length for a
 * base64 body (decoding changes it).
 */
export function toGrpcRequestHeaders(headers: string[], webContentType: string, text: boolean): void {
  setHeader(headers, 'content-type', 'content-type', upstreamContentType(webContentType));
  setHeader(headers, 'te', 'te', 'trailers');
  if (text) removeHeader(headers, 'content-length');
}

/**
 * Decodes a grpc-web-text request body. Clients may base64 each message on
 * its own, so padding can appear mid-stream; node's decoder stops at the
 * first `=`, hence decoding padded segments one by one.
 */
export class Base64Decoder extends Transform {
  private carry = '';

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const text = this.carry + chunk.toString('latin1').replace(/[\s]/g, '');
    const whole = text.length - (text.length % 4);
    this.carry = text.slice(whole);
    if (whole > 0) this.push(decodeAligned(text.slice(0, whole)));
    done();
  }

  override _flush(done: TransformCallback): void {
    // A truncated last group still decodes what it holds (as Envoy's decoder does).
    if (this.carry !== '') this.push(Buffer.from(this.carry, 'base64'));
    done();
  }
}

/** Base64 whose length is a multiple of 4, padded groups allowed anywhere. */
function decodeAligned(text: string): Buffer {
  if (!text.includes('=')) return Buffer.from(text, 'base64');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i += 4) {
    if (text.charCodeAt(i + 3) === 61 /* = */) {
      parts.push(Buffer.from(text.slice(start, i + 4), 'base64'));
      start = i + 4;
    }
  }
  if (start < text.length) parts.push(Buffer.from(text.slice(start), 'base64'));
  return Buffer.concat(parts);
}

const EXPOSED = ['grpc-status', 'grpc-message'];

/**
 * Browsers only let scripts read response headers a CORS response exposes;
 * a trailers-only answer carries the status in headers, so a cross-origin
 * grpc-web client needs `grpc-status` and `grpc-message` exposed. Added to
 * whatever the CORS filter or the backend already exposes, and only on a
 * response that allows an origin at all.
 */
export function exposeGrpcStatus(headers: string[]): void {
  if (getHeader(headers, 'access-control-allow-origin') === undefined) return;
  const current = getHeader(headers, 'access-control-expose-headers');
  if (current === undefined) {
    headers.push('access-control-expose-headers', EXPOSED.join(','));
    return;
  }
  if (current.trim() === '*') return;
  const have = current.split(',').map((s) => s.trim().toLowerCase());
  const missing = EXPOSED.filter((h) => !have.includes(h));
  if (missing.length > 0) {
    setHeader(
      headers,
      'access-control-expose-headers',
      'access-control-expose-headers',
      `${current},${missing.join(',')}`,
    );
  }
}

/** The grpc-web content-type answering a request in `format` (`+proto` when the backend named none). */
export function webContentType(text: boolean, format: string): string {
  return `application/grpc-web${text ? '-text' : ''}${format === '' ? '+proto' : format}`;
}

/** Turns one gRPC response into grpc-web on its way downstream. */
export class GrpcWebResponse {
  /** The backend did not answer gRPC (an HTTP error page...): passed on as it is. */
  private passthrough = false;
  /** base64: the 0-2 bytes of the last chunk not yet encoded (a group needs 3). */
  private carry: Buffer | null = null;

  constructor(readonly text: boolean) {}

  /** Edits the response headers (flat list, after the response filters) in place. */
  responseHeaders(headers: string[]): void {
    let contentType: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      if (nameIs(headers[i], 'content-type')) contentType = headers[i + 1];
    }
    if (contentType === undefined || !contentType.toLowerCase().startsWith('application/grpc')) {
      this.passthrough = true;
      return;
    }
    setHeader(headers, 'content-type', 'content-type', webContentType(this.text, grpcFormat(contentType)));
    // The trailer frame makes the body longer than the backend said.
    removeHeader(headers, 'content-length');
    exposeGrpcStatus(headers);
  }

  /** A response body chunk as it goes downstream (possibly empty for base64). */
  encode(chunk: Buffer): Buffer {
    if (this.passthrough || !this.text) return chunk;
    return this.base64(chunk, false);
  }

  /**
   * The last bytes of the body: the trailer frame (none when the backend
   * sent no trailers, e.g. a trailers-only answer whose status is already
   * in the headers). Null when the response passes through as it is.
   */
  finish(trailers: ReadonlyArray<readonly [string, string]> | null): Buffer | null {
    if (this.passthrough) return null;
    const frame = trailers !== null && trailers.length > 0 ? trailerFrame(trailers) : Buffer.alloc(0);
    return this.text ? this.base64(frame, true) : frame;
  }

  private base64(chunk: Buffer, last: boolean): Buffer {
    const carry = this.carry;
    const data = carry === null ? chunk : Buffer.concat([carry, chunk]);
    const whole = last ? data.length : data.length - (data.length % 3);
    // Copied: the chunk's memory may be reused once it has been written.
    this.carry = whole < data.length ? Buffer.from(data.subarray(whole)) : null;
    return whole === 0 ? EMPTY : Buffer.from(data.subarray(0, whole).toString('base64'), 'latin1');
  }
}

const EMPTY = Buffer.alloc(0);

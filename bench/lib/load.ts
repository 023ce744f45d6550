/**
 * The load of each section of the table, behind one call: wrk for HTTP/1.1
 * (cleartext, TLS with keep-alive, TLS with a new connection per request),
 * h2load for h2c and gRPC. "64" is the concurrency of every section: 64
 * wrk connections, or 16 HTTP/2 connections × 4 streams (one client
 * connection with many streams is how HTTP/2 and gRPC clients work); "1"
 * is one connection, one request at a time.
 */
import type { Tools } from './tools.ts';
import { runH2load } from './h2load.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export const SECTIONS = ['http1', 'https', 'https-close', 'h2c', 'grpc'] as const;
export type Section = (typeof SECTIONS)[number];

export interface LoadSpec {
  tools: Tools;
  /** `taskset -c` list for the load generator, or null. */
  cpus: string | null;
  /** The HTTP request every HTTP row serves. */
  path: string;
  headers: Record<string, string>;
  /** The gRPC call: `/package.Service/Method` and the file holding the length-prefixed request message. */
  grpcPath: string;
  grpcRequest: Buffer;
  grpcDataFile: string;
}

/** h2load's shape of "64 in flight". */
export const H2_CONNECTIONS = 16;
export const H2_STREAMS = 4;

export function runLoad(
  spec: LoadSpec,
  section: Section,
  port: number,
  concurrency: 64 | 1,
  seconds: number,
  logFile: string,
): Promise<WrkResult> {
  const wrkHeaders = Object.entries(spec.headers).map(([k, v]) => `${k}: ${v}`);
  const wrk = (scheme: string, extra: string[]): Promise<WrkResult> =>
    runWrk({
      wrk: spec.tools.wrk,
      url: `${scheme}://127.0.0.1:${port}${spec.path}`,
      headers: [...wrkHeaders, ...extra],
      threads: concurrency === 1 ? 1 : 2,
      connections: concurrency,
      seconds,
      logFile,
      cpus: spec.cpus,
    });
  const h2 = (path: string, headers: string[], dataFile: string | null): Promise<WrkResult> =>
    runH2load({
      h2load: spec.tools.h2load,
      url: `http://127.0.0.1:${port}${path}`,
      headers,
      dataFile,
      connections: concurrency === 1 ? 1 : H2_CONNECTIONS,
      streams: concurrency === 1 ? 1 : H2_STREAMS,
      seconds,
      logFile,
      cpus: spec.cpus,
    });
  switch (section) {
    case 'http1':
      return wrk('http', []);
    case 'https':
      return wrk('https', []);
    case 'https-close':
      // wrk reconnects (TCP + full TLS handshake) when the response says Connection: close.
      return wrk('https', ['Connection: close']);
    case 'h2c':
      return h2(
        spec.path,
        Object.entries(spec.headers).map(([k, v]) => (k.toLowerCase() === 'host' ? `:authority: ${v}` : `${k}: ${v}`)),
        null,
      );
    case 'grpc':
      return h2(spec.grpcPath, ['content-type: application/grpc', 'te: trailers'], spec.grpcDataFile);
  }
}

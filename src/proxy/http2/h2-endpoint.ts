/**
 * The HTTP/2 side of a listener: a node:http2 server that never listens
 * itself and is handed connections (h2c sniffed on the cleartext port, or
 * TLS sockets that negotiated `h2`). Its limits are the safe defaults of
 * research/reliability.md §2.9: 100 concurrent streams (node's default is
 * 2³²−1), bounded header list, 64 KiB stream / 1 MiB connection windows,
 * few invalid frames tolerated, and, where node has the option, nghttp2's
 * RST_STREAM rate limit (older nodes apply nghttp2's built-in 1000 burst,
 * 33/s). CONTINUATION floods are bounded by nghttp2 (≥ 1.61) and by the
 * header list size.
 */
import http2, { type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { SocketTable } from '../compile/compiled-route.ts';
import type { ListenerInfo } from '../http/request-context.ts';
import type { ProxyRuntime } from '../http/runtime.ts';
import type { ProxyTuning } from '../http/tuning.ts';
import { acceptStream } from './h2-stream.ts';

/** Frames nghttp2 rejects before the session is torn down (node's default is 1000). */
const MAX_INVALID_FRAMES = 100;
/** Streams refused (over the concurrency limit) before the session is torn down. */
const MAX_REJECTED_STREAMS = 100;
/** nghttp2's per-session memory bound, in MiB (node's default). */
const MAX_SESSION_MEMORY_MB = 10;

/** What the endpoint reads from its listener, when a stream arrives. */
export interface H2ListenerView extends ListenerInfo {
  readonly table: SocketTable;
}

export class H2Endpoint {
  private readonly server: http2.Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  /** The socket being handed over: node creates its session synchronously inside `emit('connection')`. */
  private accepting: Socket | null = null;
  private draining = false;

  constructor(
    private readonly runtime: ProxyRuntime,
    private readonly listener: H2ListenerView,
  ) {
    this.server = http2.createServer(serverOptions(runtime.tuning));
    this.server.on('session', (s: ServerHttp2Session) => this.onSession(s));
    // Session errors are reported on the server; the session is already being torn down.
    this.server.on('sessionError', () => undefined);
  }

  /** Serves HTTP/2 on a connection whose first bytes (or ALPN) said so. */
  accept(socket: Socket): void {
    this.accepting = socket;
    try {
      this.server.emit('connection', socket);
    } finally {
      this.accepting = null;
    }
  }

  private onSession(session: ServerHttp2Session): void {
    const socket = this.accepting;
    if (socket === null) {
      session.destroy();
      return;
    }
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    const t = this.runtime.tuning;
    // The raw socket, not node's per-access proxy (`session.socket`), goes with every request.
    session.on('stream', (stream: ServerHttp2Stream, _headers: unknown, flags: number, rawHeaders: string[]) => {
      acceptStream(this.runtime, this.listener, this.listener.table, socket, stream, flags, rawHeaders);
    });
    session.setLocalWindowSize(t.http2ConnectionWindowBytes);
    // Idle sessions are closed like idle keep-alive connections: GOAWAY, open streams finish.
    session.setTimeout(t.keepAliveTimeoutMs, () => session.close());
    if (this.draining) session.close();
  }

  /** Stops new streams: GOAWAY to every session; streams in flight finish. */
  drain(): void {
    this.draining = true;
    for (const s of this.sessions) if (!s.closed) s.close();
  }

  /** Cuts every session now. */
  destroyAll(): void {
    for (const s of this.sessions) s.destroy();
  }
}

function serverOptions(t: ProxyTuning): http2.ServerOptions {
  const opts: http2.ServerOptions = {
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
    // Pseudo-headers count too; the request path answers 431 above maxHeaderCount.
    maxHeaderListPairs: t.maxHeaderCount * 2 + 4,
    maxSessionInvalidFrames: MAX_INVALID_FRAMES,
    maxSessionRejectedStreams: MAX_REJECTED_STREAMS,
    peerMaxConcurrentStreams: t.http2MaxConcurrentStreams,
    settings: {
      maxConcurrentStreams: t.http2MaxConcurrentStreams,
      initialWindowSize: t.http2StreamWindowBytes,
      maxHeaderListSize: t.maxHeaderBytes,
      enablePush: false,
    },
  };
  if (hasStreamResetRateOption()) {
    Object.assign(opts, { streamResetBurst: t.http2StreamResetBurst, streamResetRate: t.http2StreamResetRate });
  }
  return opts;
}

/** node ≥ 22.10 (and 23+) passes `streamResetBurst`/`streamResetRate` to nghttp2; older nodes ignore them. */
export function hasStreamResetRateOption(version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 10);
}

/**
 * The transport check kinds against the live gateway (TRANSPORT-KINDS.md
 * 6.1-6.4) and `weights` over gRPC, TCP and UDP (3.5), with the timing of
 * 1.3: `grpc` 3 passes in a row, `tcp`/`tls`/`udp` one pass, 30 s, 0.1 s
 * between tries unless the check says otherwise; 10 s per connection.
 */
import http2, { type ClientHttp2Session } from 'node:http2';
import { randomInt } from 'node:crypto';
import type { SecureVersion } from 'node:tls';
import { buildDnsQuery, parseDnsReply } from '../../support/dns-responder.ts';
import { grpcUnary } from '../../support/grpc-client.ts';
import { decodeEchoResponse } from '../../support/grpc-echo/messages.ts';
import {
  endpointResolver,
  inParallel,
  pollOptions,
  REQUEST_TIMEOUT_MS,
  secretText,
  type TrafficContext,
} from './context.ts';
import { eventually, type TryResult } from './eventually.ts';
import { hostPort, type Endpoint } from './http-client.ts';
import { tcpExchange, udpRoundTrip } from './l4-clients.ts';
import { connectTcp, connectTls, type TlsClientOptions } from './tls-client.ts';
import {
  backendOfPod,
  judgeGrpc,
  judgeTcpExchange,
  judgeUdpReply,
  rejectedVerdict,
  weightsMismatch,
  type GrpcOutcome,
  type Judgement,
} from './transport-judge.ts';
import type { GrpcCheck, GrpcRequestSpec, TcpCheck, TlsCheck, TransportWeightsCheck, UdpCheck } from './types.ts';

type Resolve = () => Promise<Endpoint>;

/** Runs `fn` with the check's endpoint, turning a missing address into a failed try. */
async function withEndpoint(endpoint: Resolve, fn: (ep: Endpoint) => Promise<TryResult>): Promise<TryResult> {
  let ep: Endpoint;
  try {
    ep = await endpoint();
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  return fn(ep);
}

function fromJudgement(j: Judgement, prefix = ''): TryResult {
  if (j.ok) return { ok: true };
  return { ok: false, reason: `${prefix}${j.reason}`, ...(j.fatal ? { fatal: true } : {}) };
}

// --- gRPC -------------------------------------------------------------------

/**
 * One HTTP/2 connection reused across calls, as a grpc-go ClientConn;
 * dropped and redialled after a transport failure or an `Internal` status
 * (upstream redials after Internal).
 */
class GrpcChannel {
  #session: ClientHttp2Session | undefined;
  #url = '';

  session(ep: Endpoint): ClientHttp2Session {
    const url = `http://${hostPort(ep)}`;
    if (this.#session && !this.#session.destroyed && !this.#session.closed && this.#url === url) return this.#session;
    this.drop();
    const s = http2.connect(url);
    s.on('error', () => undefined);
    this.#session = s;
    this.#url = url;
    return s;
  }

  drop(): void {
    this.#session?.destroy();
    this.#session = undefined;
  }
}

/** One unary call with an empty EchoRequest; never rejects (a timeout is DeadlineExceeded). */
async function grpcCall(
  channel: GrpcChannel,
  ep: Endpoint,
  req: GrpcRequestSpec,
  timeoutMs: number,
  extraMetadata: Record<string, string> = {},
): Promise<GrpcOutcome> {
  const path = `/${req.service}/${req.method}`;
  try {
    const r = await grpcUnary(channel.session(ep), path, Buffer.alloc(0), {
      ...(req.authority !== undefined ? { authority: req.authority } : {}),
      metadata: { ...(req.metadata ?? {}), ...extraMetadata },
      timeoutMs,
    });
    if (r.httpStatus === 0 || r.code === 13 || r.code === 14) channel.drop();
    if (r.code !== 0) return { code: r.code, message: r.message };
    if (!r.messages.length) return { code: 0, message: 'no response message' };
    try {
      return { code: 0, message: '', response: decodeEchoResponse(r.messages[0]) };
    } catch (err) {
      return { code: 13, message: `undecodable EchoResponse: ${(err as Error).message}` };
    }
  } catch (err) {
    channel.drop();
    return { code: 4, message: (err as Error).message };
  }
}

export async function grpcCheck(check: GrpcCheck, ctx: TrafficContext): Promise<TryResult> {
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  const channel = new GrpcChannel();
  const label = `${check.request.method}${check.request.authority !== undefined ? ` (:authority ${check.request.authority})` : ''}: `;
  try {
    return await eventually(pollOptions(check, ctx), () =>
      withEndpoint(endpoint, async (ep) =>
        fromJudgement(judgeGrpc(check, await grpcCall(channel, ep, check.request, REQUEST_TIMEOUT_MS)), label),
      ),
    );
  } finally {
    channel.drop();
  }
}

// --- TCP ----------------------------------------------------------------------

/** A TCP echo exchange on a new plain connection: what came back, judged; transport errors are tries that failed. */
async function tcpTry(
  ep: Endpoint,
  check: Pick<TcpCheck, 'request' | 'response' | 'backend' | 'namespace'>,
  timeoutMs: number,
): Promise<Judgement> {
  try {
    const socket = await connectTcp(ep.address, ep.port, timeoutMs);
    const got = await tcpExchange(socket, check.request.exchange ?? 'full', timeoutMs);
    return judgeTcpExchange(check, got);
  } catch (err) {
    return { ok: false, reason: `${hostPort(ep)}: ${(err as Error).message}` };
  }
}

/** Connections one after another with the `test` exchange; each must reach `backend` (6.2 `samples`). */
async function tcpSamples(ep: Endpoint, check: TcpCheck): Promise<TryResult> {
  const n = check.samples ?? 0;
  const timeoutMs = (check.sampleTimeoutSeconds ?? REQUEST_TIMEOUT_MS / 1000) * 1000;
  for (let i = 1; i <= n; i++) {
    const j = await tcpTry(ep, { request: { exchange: 'test' } }, timeoutMs);
    if (!j.ok) return { ok: false, reason: `sample ${i} of ${n}: ${j.reason}` };
    if (check.backend !== undefined && !j.pod.startsWith(`${check.backend}-`)) {
      const forbidden = (check.forbiddenBackends ?? []).some((b) => j.pod.startsWith(`${b}-`));
      return {
        ok: false,
        reason: `sample ${i} of ${n} answered by pod ${j.pod}${forbidden ? ' (a forbidden backend)' : ''}, want backend ${check.backend}`,
      };
    }
  }
  return { ok: true };
}

export async function tcpCheck(check: TcpCheck, ctx: TrafficContext): Promise<TryResult> {
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  const first = await eventually(pollOptions(check, ctx, 1), () =>
    withEndpoint(endpoint, async (ep) => {
      const j = await tcpTry(ep, check, REQUEST_TIMEOUT_MS);
      // Upstream asserts on the first exchange that completes: wrong answers end the check.
      if (!j.ok && !j.reason.startsWith(`${hostPort(ep)}: `)) return { ok: false, reason: j.reason, fatal: true };
      return fromJudgement(j);
    }),
  );
  if (!first.ok || !check.samples) return first;
  return withEndpoint(endpoint, (ep) => tcpSamples(ep, check));
}

// --- TLS ----------------------------------------------------------------------

const TLS_VERSIONS: Record<string, SecureVersion> = {
  'TLS1.0': 'TLSv1',
  'TLS1.1': 'TLSv1.1',
  'TLS1.2': 'TLSv1.2',
  'TLS1.3': 'TLSv1.3',
};

function tlsOptions(check: TlsCheck, ctx: TrafficContext): TlsClientOptions | string {
  const r = check.request;
  const opts: TlsClientOptions = {};
  if (r.sni !== undefined) opts.serverName = r.sni;
  if (r.minVersion !== undefined) {
    const v = TLS_VERSIONS[r.minVersion];
    if (!v) return `unknown minVersion ${r.minVersion}`;
    opts.minVersion = v;
  }
  if (r.trust !== undefined && r.trust !== 'system') {
    const ca = secretText(ctx, r.trust);
    if (ca === undefined) return `trust ${r.trust.namespace}/${r.trust.name} not found`;
    opts.ca = ca;
  }
  return opts;
}

export async function tlsCheck(check: TlsCheck, ctx: TrafficContext): Promise<TryResult> {
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  const opts = tlsOptions(check, ctx);
  if (typeof opts === 'string') return { ok: false, reason: opts };
  const sni = `SNI ${check.request.sni ?? '(none)'}: `;
  if (check.response?.rejected)
    return eventually(pollOptions(check, ctx, 1), () =>
      withEndpoint(endpoint, async (ep) => {
        try {
          const socket = await connectTls(ep.address, ep.port, opts, REQUEST_TIMEOUT_MS);
          socket.destroy();
          return fromJudgement(rejectedVerdict({ completed: true }), sni);
        } catch (err) {
          return fromJudgement(rejectedVerdict({ error: err as NodeJS.ErrnoException }), sni);
        }
      }),
    );
  return eventually(pollOptions(check, ctx, 1), () =>
    withEndpoint(endpoint, async (ep) => {
      let socket;
      try {
        socket = await connectTls(ep.address, ep.port, opts, REQUEST_TIMEOUT_MS);
      } catch (err) {
        return { ok: false, reason: `${sni}TLS handshake: ${(err as Error).message}` };
      }
      if (check.request.payload === undefined) {
        socket.destroy();
        return { ok: true };
      }
      if (check.request.payload !== 'tcp-echo') {
        socket.destroy();
        return { ok: false, reason: `unknown payload ${check.request.payload}`, fatal: true };
      }
      let got;
      try {
        got = await tcpExchange(socket, check.request.exchange ?? 'full', REQUEST_TIMEOUT_MS);
      } catch (err) {
        return { ok: false, reason: `${sni}TCP echo over TLS: ${(err as Error).message}` };
      }
      const j = judgeTcpExchange(check, got);
      return j.ok ? { ok: true } : { ok: false, reason: `${sni}${j.reason}`, fatal: true };
    }),
  );
}

// --- UDP ----------------------------------------------------------------------

function udpPayload(check: UdpCheck): { bytes: Buffer; id?: number } | string {
  const q = check.request.dnsQuery;
  if (q) {
    if ((q.type ?? 'A') !== 'A') return `dnsQuery type ${q.type} not supported`;
    const id = randomInt(1, 0xffff);
    return { bytes: buildDnsQuery(q.name, id), id };
  }
  if (check.request.payload === undefined) return 'udp check without payload or dnsQuery';
  return { bytes: Buffer.from(check.request.payload, 'utf8') };
}

function dnsReplyTo(id: number | undefined): (b: Buffer) => boolean {
  return (b) => {
    const r = parseDnsReply(b);
    return r !== null && (id === undefined || r.id === id);
  };
}

export async function udpCheck(check: UdpCheck, ctx: TrafficContext): Promise<TryResult> {
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  const probeMs = (check.probeTimeoutSeconds ?? 10) * 1000;
  const sampled = check.samples !== undefined;
  return eventually(pollOptions(check, ctx, 1), () =>
    withEndpoint(endpoint, async (ep) => {
      const rounds = sampled ? (check.samples ?? 1) : 1;
      for (let i = 1; i <= rounds; i++) {
        const p = udpPayload(check);
        if (typeof p === 'string') return { ok: false, reason: p, fatal: true };
        let reply: Buffer | undefined;
        try {
          reply = await udpRoundTrip(ep.address, ep.port, p.bytes, probeMs, sampled ? 4096 : 1024);
        } catch (err) {
          return { ok: false, reason: `UDP ${hostPort(ep)}: ${(err as Error).message}` };
        }
        const which = sampled ? `datagram ${i} of ${rounds}: ` : '';
        if (!reply) return { ok: false, reason: `${which}no reply from ${hostPort(ep)} within ${probeMs} ms` };
        const j = judgeUdpReply(check, reply, dnsReplyTo(p.id));
        // A sampled datagram answered by another backend fails the check at once (6.4).
        if (!j.ok) return { ok: false, reason: `${which}${j.reason}`, ...(sampled ? { fatal: true } : {}) };
      }
      return { ok: true };
    }),
  );
}

// --- weights over gRPC, TCP, UDP ------------------------------------------------------

type Sample = { ok: true; pod: string } | { ok: false; reason: string };

function sampler(check: TransportWeightsCheck, channel: GrpcChannel): ((ep: Endpoint) => Promise<Sample>) | string {
  const timeoutMs = (check.requestTimeoutSeconds ?? REQUEST_TIMEOUT_MS / 1000) * 1000;
  const r = check.request;
  switch (check.protocol) {
    case 'grpc': {
      if (r.service === undefined || r.method === undefined) return 'grpc weights without request.service/method';
      const req: GrpcRequestSpec = { ...r, service: r.service, method: r.method };
      return async (ep) => {
        const jitter: Record<string, string> =
          check.entropy && Math.random() < 0.5 ? { [check.entropy.toLowerCase()]: String(randomInt(10000)) } : {};
        const out = await grpcCall(channel, ep, req, timeoutMs, jitter);
        if (out.code !== 0) return { ok: false, reason: `call answered code ${out.code} ${out.message}` };
        return { ok: true, pod: out.response?.assertions?.context?.pod ?? '' };
      };
    }
    case 'tcp':
      return async (ep) => {
        const j = await tcpTry(ep, { request: { exchange: r.exchange ?? 'test' } }, timeoutMs);
        return j.ok ? { ok: true, pod: j.pod } : { ok: false, reason: j.reason };
      };
    case 'udp': {
      if (r.payload === undefined) return 'udp weights without request.payload';
      const bytes = Buffer.from(r.payload, 'utf8');
      return async (ep) => {
        let reply: Buffer | undefined;
        try {
          reply = await udpRoundTrip(ep.address, ep.port, bytes, timeoutMs, 4096);
        } catch (err) {
          return { ok: false, reason: (err as Error).message };
        }
        if (!reply) return { ok: false, reason: `no reply within ${timeoutMs} ms` };
        try {
          const pod = (JSON.parse(reply.toString('utf8')) as { pod?: unknown }).pod;
          return typeof pod === 'string' ? { ok: true, pod } : { ok: false, reason: 'reply without pod' };
        } catch {
          return { ok: false, reason: 'the reply is not UDP echo JSON' };
        }
      };
    }
    default:
      return `weights over ${check.protocol} not supported`;
  }
}

export async function transportWeights(check: TransportWeightsCheck, ctx: TrafficContext): Promise<TryResult> {
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  const channel = new GrpcChannel();
  const sample = sampler(check, channel);
  if (typeof sample === 'string') return { ok: false, reason: sample };
  const attempts = check.attempts ?? 1;
  let last = '';
  try {
    for (let round = 1; round <= attempts; round++) {
      const results = await inParallel(
        check.requests,
        check.concurrency ?? 1,
        async (): Promise<Sample> => {
          let ep: Endpoint;
          try {
            ep = await endpoint();
          } catch (err) {
            return { ok: false, reason: (err as Error).message };
          }
          return sample(ep);
        },
        (s) => !s.ok,
      );
      const bad = results.find((s) => !s.ok);
      if (bad && !bad.ok) {
        last = bad.reason;
        continue;
      }
      const seen = new Map<string, number>();
      for (const s of results) if (s.ok) seen.set(backendOfPod(s.pod), (seen.get(backendOfPod(s.pod)) ?? 0) + 1);
      const why = weightsMismatch(seen, check.expected, check.tolerance, check.requests);
      if (!why) return { ok: true };
      last = why;
    }
  } finally {
    channel.drop();
  }
  return {
    ok: false,
    reason: `${check.protocol}: ${last} (${attempts} round${attempts > 1 ? 's' : ''} of ${check.requests} requests)`,
  };
}

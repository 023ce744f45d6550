/**
 * Runs the traffic check kinds against the live gateway: `http` and
 * `timing` (EXTRA-KINDS.md 1, 2, 4; `https` and HTTP/2 too), `mirror` (3),
 * `weights` (5; over gRPC, TCP and UDP in ./transport-checks.ts),
 * `backendHeaderConsistency` (6), `websocket` (TRANSPORT-KINDS.md 6.5) and
 * `grpc`, `tcp`, `tls`, `udp` (6.1-6.4, ./transport-checks.ts).
 * The Gateway is dialled at the first typed `status.addresses` entry the
 * gateway reports, on the listener port plus the run's port offset.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Check } from '../case-types.ts';
import {
  endpointResolver,
  inParallel,
  pollOptions,
  REQUEST_TIMEOUT_MS,
  secretText,
  type TrafficContext,
} from './context.ts';
import { eventually, type TryResult } from './eventually.ts';
import { hostPort, sendHttp, type Endpoint, type HttpResult } from './http-client.ts';
import { judgeHttpResult, type Echoed, type TryVerdict } from './http-judge.ts';
import { HandshakeProbe, type TlsClientOptions } from './tls-client.ts';
import { grpcCheck, tcpCheck, tlsCheck, transportWeights, udpCheck } from './transport-checks.ts';
import { backendOfPod, weightsMismatch } from './transport-judge.ts';
import type {
  BackendHeaderConsistencyCheck,
  GrpcCheck,
  HttpCheck,
  MirrorCheck,
  TcpCheck,
  TlsCheck,
  TransportWeightsCheck,
  UdpCheck,
  WebSocketCheck,
  WeightsCheck,
} from './types.ts';
import { wsExchange } from './ws-client.ts';

/**
 * The TLS settings of an `https` check: `trust` as the only root,
 * `request.sni` as server name, `clientCertificate` when the server asks.
 * A string is why they cannot be had (a Secret the case does not hold).
 */
export function httpsOptions(
  check: HttpCheck,
  ctx: Pick<TrafficContext, 'lookup'>,
  probe?: HandshakeProbe,
): TlsClientOptions | string {
  const opts: TlsClientOptions = {};
  if (check.request.sni !== undefined) opts.serverName = check.request.sni;
  if (check.trust) {
    const ca = secretText(ctx, check.trust);
    if (ca === undefined) return `trust ${check.trust.namespace}/${check.trust.name} not found`;
    opts.ca = ca;
  }
  if (check.clientCertificate) {
    const ref = check.clientCertificate;
    const cert = secretText(ctx, ref, ref.certKey ?? 'tls.crt');
    const key = secretText(ctx, ref, ref.keyKey ?? 'tls.key');
    if (cert === undefined || key === undefined) return `client certificate ${ref.namespace}/${ref.name} not found`;
    opts.cert = cert;
    opts.key = key;
  }
  if (probe) opts.probe = probe;
  return opts;
}

/** Why the server did not (visibly) ask for a client certificate, or undefined when it did. */
function certificateRequestMissing(probe: HandshakeProbe | undefined): string | undefined {
  if (!probe) return undefined;
  const seen = probe.observe();
  if (seen.certificateRequested === true) return undefined;
  if (seen.certificateRequested === false)
    return `the gateway did not request a client certificate (${seen.version} handshake)`;
  return `could not tell whether the gateway requested a client certificate: ${seen.unknown}`;
}

function withParam(path: string, name: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${name}=${value}`;
}

interface TryOptions {
  /** Replace request and expected paths (per-try substitutions). */
  path?: string;
  expectedPath?: string;
  extraHeaders?: [string, string][];
}

/** One request of an http-like check, judged (EXTRA-KINDS.md 1.3). */
async function httpTry(
  check: HttpCheck,
  ctx: TrafficContext,
  endpoint: () => Promise<Endpoint>,
  t: TryOptions = {},
): Promise<TryVerdict & { result?: HttpResult }> {
  let path = t.path ?? check.request.path;
  let expectedPath = t.expectedPath ?? check.expectedRequest?.path;
  if (check.perAttemptUUID) {
    const id = randomUUID();
    path = path.replaceAll(check.perAttemptUUID, id);
    expectedPath = expectedPath?.replaceAll(check.perAttemptUUID, id);
  }
  let ep: Endpoint;
  try {
    ep = await endpoint();
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const req = check.request;
  const https = (check.scheme ?? 'http') === 'https';
  const probe = https && check.expectCertificateRequest ? new HandshakeProbe() : undefined;
  const tls = https ? httpsOptions(check, ctx, probe) : undefined;
  if (typeof tls === 'string') return { ok: false, reason: tls, fatal: true };
  let res: HttpResult;
  try {
    res = await sendHttp(ep, {
      method: req.method ?? 'GET',
      path,
      ...(req.host !== undefined ? { host: req.host } : {}),
      headers: [...Object.entries(req.headers ?? {}), ...(t.extraHeaders ?? [])],
      ...(req.body !== undefined ? { body: req.body } : {}),
      protocol: req.protocol ?? 'HTTP',
      timeoutMs: check.maxSeconds !== undefined ? check.maxSeconds * 1000 : REQUEST_TIMEOUT_MS,
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    const asked = certificateRequestMissing(probe);
    if (check.expectConnectionFailure)
      return asked
        ? { ok: false, reason: `connection failed as expected, but ${asked}` }
        : { ok: true, echo: emptyEcho() };
    return { ok: false, reason: `${req.method ?? 'GET'} ${path}: ${(err as Error).message}` };
  }
  if (check.expectConnectionFailure)
    return { ok: false, reason: `got an HTTP response (${res.status}); the connection must fail` };
  const asked = certificateRequestMissing(probe);
  if (asked) return { ok: false, reason: asked };
  const pem = check.expectedRequest?.clientCertificate
    ? secretText(ctx, check.expectedRequest.clientCertificate)
    : undefined;
  const v = judgeHttpResult(check, res, {
    requestUrl: `${check.scheme ?? 'http'}://${hostPort(ep)}${path}`,
    servedPort: ep.port,
    ...(expectedPath !== undefined ? { expectedPath } : {}),
    ...(pem !== undefined ? { clientCertificatePem: pem } : {}),
  });
  const label = `${req.method ?? 'GET'} ${req.host ?? ''}${path}`;
  return v.ok ? { ...v, result: res } : { ...v, reason: `${label}: ${v.reason}`, result: res };
}

function emptyEcho(): Echoed {
  return { path: '', host: '', method: '', headers: {}, namespace: '', pod: '', httpPort: '' };
}

function httpCheck(check: HttpCheck, ctx: TrafficContext, t: TryOptions = {}): Promise<TryResult> {
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  return eventually(pollOptions(check, ctx), () => httpTry(check, ctx, endpoint, t));
}

// --- mirror ------------------------------------------------------------------

/** Copies of `target` each mirror Deployment has echoed so far (all its processes together). */
async function mirrorCounts(check: MirrorCheck, ctx: TrafficContext, target: string): Promise<number[]> {
  return Promise.all(check.mirroredTo.map((m) => ctx.fleet.count(m.namespace, m.backend, target)));
}

async function mirrorPlain(check: MirrorCheck, ctx: TrafficContext): Promise<TryResult> {
  const id = randomUUID();
  const param = check.requestIdQueryParam;
  const path = param ? withParam(check.request.path, param, id) : check.request.path;
  const expectedPath =
    param && check.expectedRequest?.path !== undefined ? withParam(check.expectedRequest.path, param, id) : undefined;
  const started = Date.now();
  const sent = await httpCheck(check, ctx, { path, ...(expectedPath !== undefined ? { expectedPath } : {}) });
  if (!sent.ok) return sent;
  // Upstream polls the mirror pods' logs once a second for 10 s from when it started sending.
  for (;;) {
    const counts = await mirrorCounts(check, ctx, path);
    const missing = check.mirroredTo.filter((_, i) => counts[i] < 1);
    if (!missing.length) return { ok: true };
    if (Date.now() - started > 10_000)
      return {
        ok: false,
        reason: `no mirrored copy of ${path} reached ${missing.map((m) => `${m.namespace}/${m.backend}`).join(', ')} within 10 s`,
      };
    await sleep(200);
  }
}

/** Percentage mode (EXTRA-KINDS.md 3): rounds of `requests` requests, mirror copies counted per round. */
async function mirrorPercentage(check: MirrorCheck, ctx: TrafficContext): Promise<TryResult> {
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  const attempts = check.attempts ?? 1;
  let last = '';
  for (let round = 1; round <= attempts; round++) {
    const id = randomUUID();
    const param = check.requestIdQueryParam ?? 'gateway-api-conformance-request-id';
    const path = withParam(check.request.path, param, id);
    const expectedPath =
      check.expectedRequest?.path !== undefined ? withParam(check.expectedRequest.path, param, id) : undefined;
    const results = await inParallel(
      check.requests ?? 1,
      check.concurrency ?? 1,
      () =>
        eventually(pollOptions(check, ctx, 1), () =>
          httpTry(check, ctx, endpoint, { path, ...(expectedPath !== undefined ? { expectedPath } : {}) }),
        ),
      (r) => !r.ok,
    );
    const bad = results.find((r) => !r.ok);
    if (bad && !bad.ok) return { ok: false, reason: `round ${round}: ${bad.reason}` };
    // Mirror copies may land after the responses: read the counts until they stop moving (bounded).
    let counts = await mirrorCounts(check, ctx, path);
    for (let i = 0; i < 25; i++) {
      await sleep(200);
      const again = await mirrorCounts(check, ctx, path);
      const moved = again.some((c, k) => c !== counts[k]);
      counts = again;
      if (!moved && i >= 2) break;
    }
    const off = check.mirroredTo
      .map((m, i) => ({ m, n: counts[i] }))
      .filter(
        ({ m, n }) => (m.minCount !== undefined && n < m.minCount) || (m.maxCount !== undefined && n > m.maxCount),
      );
    if (!off.length) return { ok: true };
    last = off
      .map(({ m, n }) => `${m.backend} got ${n} mirrored copies, want ${m.minCount ?? 0}..${m.maxCount ?? '∞'}`)
      .join('; ');
    if (round < attempts) await sleep((check.pauseBetweenAttemptsSeconds ?? 0) * 1000);
  }
  return { ok: false, reason: `${last} (${attempts} round${attempts > 1 ? 's' : ''} of ${check.requests} requests)` };
}

// --- weights -----------------------------------------------------------------

export { backendOfPod, weightsMismatch, type TrafficContext };

async function weights(check: WeightsCheck, ctx: TrafficContext): Promise<TryResult> {
  if ((check.protocol ?? 'http') !== 'http') return transportWeights(check as unknown as TransportWeightsCheck, ctx);
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  const timed: HttpCheck = { ...check, maxSeconds: check.requestTimeoutSeconds ?? REQUEST_TIMEOUT_MS / 1000 };
  const attempts = check.attempts ?? 1;
  let last = '';
  for (let round = 1; round <= attempts; round++) {
    const results = await inParallel(
      check.requests,
      check.concurrency ?? 1,
      () => {
        const jitter: [string, string][] =
          check.entropy && Math.random() < 0.5 ? [[check.entropy, String(randomInt(10000))]] : [];
        return httpTry(timed, ctx, endpoint, { extraHeaders: jitter });
      },
      (r) => !r.ok,
    );
    const bad = results.find((r) => !r.ok);
    if (bad && !bad.ok) {
      last = bad.reason;
      continue;
    }
    const seen = new Map<string, number>();
    for (const r of results)
      if (r.ok) seen.set(backendOfPod(r.echo.pod), (seen.get(backendOfPod(r.echo.pod)) ?? 0) + 1);
    const why = weightsMismatch(seen, check.expected, check.tolerance, check.requests);
    if (!why) return { ok: true };
    last = why;
  }
  return { ok: false, reason: `${last} (${attempts} round${attempts > 1 ? 's' : ''} of ${check.requests} requests)` };
}

// --- backendHeaderConsistency ----------------------------------------------------

async function backendHeaderConsistency(check: BackendHeaderConsistencyCheck, ctx: TrafficContext): Promise<TryResult> {
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  const plain: HttpCheck = { ...check, response: { statusCode: 200 } };
  for (let i = 0; i < check.requests; i++) {
    const r = await httpTry(plain, ctx, endpoint);
    if (!r.ok) return { ok: false, reason: `request ${i + 1}: ${r.reason}` };
    const lower = check.header.toLowerCase();
    const key = Object.keys(r.echo.headers).find((k) => k.toLowerCase() === lower);
    const values = key ? r.echo.headers[key] : [];
    if (values.length !== 1)
      return {
        ok: false,
        reason: `request ${i + 1}: backend saw ${values.length} ${check.header} values, want exactly one`,
      };
    if (!r.echo.pod.startsWith(values[0]))
      return { ok: false, reason: `request ${i + 1}: ${check.header}: ${values[0]} but answered by pod ${r.echo.pod}` };
  }
  return { ok: true };
}

// --- websocket -------------------------------------------------------------------

function websocket(check: WebSocketCheck, ctx: TrafficContext): Promise<TryResult> {
  if ((check.scheme ?? 'ws') !== 'ws')
    return Promise.resolve({ ok: false, reason: `scheme ${check.scheme} not supported` });
  const endpoint = endpointResolver(ctx, check.gateway, check.listenerPort);
  return eventually(pollOptions(check, ctx), async () => {
    let ep: Endpoint;
    try {
      ep = await endpoint();
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    const why = await wsExchange(ep, {
      path: check.request.path,
      ...(check.request.host !== undefined ? { host: check.request.host } : {}),
      ...(check.request.origin !== undefined ? { origin: check.request.origin } : {}),
      ...(check.request.subprotocol ? { subprotocol: check.request.subprotocol } : {}),
      messages: check.messages,
      comparePayloadOnly: check.comparePayloadOnly === true,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    return why === undefined ? { ok: true } : { ok: false, reason: `ws ${check.request.path}: ${why}` };
  });
}

// --- dispatch ----------------------------------------------------------------------

export function runTrafficCheck(check: Check, ctx: TrafficContext): Promise<TryResult> {
  switch (check.kind) {
    case 'http':
    case 'timing':
      return httpCheck(check as unknown as HttpCheck, ctx);
    case 'mirror': {
      const m = check as unknown as MirrorCheck;
      return m.requests !== undefined ? mirrorPercentage(m, ctx) : mirrorPlain(m, ctx);
    }
    case 'weights':
      return weights(check as unknown as WeightsCheck, ctx);
    case 'backendHeaderConsistency':
      return backendHeaderConsistency(check as unknown as BackendHeaderConsistencyCheck, ctx);
    case 'websocket':
      return websocket(check as unknown as WebSocketCheck, ctx);
    case 'grpc':
      return grpcCheck(check as unknown as GrpcCheck, ctx);
    case 'tcp':
      return tcpCheck(check as unknown as TcpCheck, ctx);
    case 'tls':
      return tlsCheck(check as unknown as TlsCheck, ctx);
    case 'udp':
      return udpCheck(check as unknown as UdpCheck, ctx);
    default:
      return Promise.resolve({ ok: false, reason: `check kind ${check.kind} is not supported by the runner` });
  }
}

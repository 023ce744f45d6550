/**
 * Runs the traffic check kinds against the live gateway: `http` and
 * `timing` (EXTRA-KINDS.md 1, 2, 4), `mirror` (3), `weights` (5),
 * `backendHeaderConsistency` (6) and `websocket` (TRANSPORT-KINDS.md 6.5).
 * The Gateway is dialled at the first typed `status.addresses` entry the
 * gateway reports, on the listener port plus the run's port offset.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../../../src/api/object.ts';
import type { StatusDocument } from '../../../src/controlplane/control-loop.ts';
import type { Check } from '../case-types.ts';
import type { EchoFleet } from '../echo-fleet.ts';
import { isPlainObject } from '../merge-patch.ts';
import { eventually, type PollOptions, type TryResult } from './eventually.ts';
import { hostPort, sendHttp, type Endpoint, type HttpResult } from './http-client.ts';
import { judgeHttpResult, type Echoed, type TryVerdict } from './http-judge.ts';
import type {
  BackendHeaderConsistencyCheck,
  GatewayRef,
  HttpCheck,
  MirrorCheck,
  SecretKeyRef,
  WebSocketCheck,
  WeightsCheck,
} from './types.ts';
import { wsExchange } from './ws-client.ts';

export interface TrafficContext {
  /** The gateway's current status document (refetched when an address is missing). */
  status(): Promise<StatusDocument>;
  fleet: Pick<EchoFleet, 'count'>;
  /** Objects of the case as the runner stored them (Secrets for client certificates). */
  lookup(kind: string, namespace: string, name: string): KubeObject | undefined;
  portOffset: number;
  /** Give up on a check once no try has passed for this long (undefined: full upstream budgets). */
  settleMs?: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

function pollOptions(
  check: { timeoutSeconds?: number; pollSeconds?: number; consecutive?: number },
  ctx: TrafficContext,
  consecutive = 3,
): PollOptions {
  return {
    consecutive: check.consecutive ?? consecutive,
    timeoutMs: (check.timeoutSeconds ?? 30) * 1000,
    pollMs: (check.pollSeconds ?? 0.1) * 1000,
    ...(ctx.settleMs !== undefined ? { settleMs: ctx.settleMs } : {}),
  };
}

/** Finds where a Gateway listener is served; cached per check, refreshed while the address is missing. */
function endpointResolver(ctx: TrafficContext, gw: GatewayRef, listenerPort: number): () => Promise<Endpoint> {
  let cached: Endpoint | undefined;
  return async () => {
    if (cached) return cached;
    const doc = await ctx.status();
    const g = doc.resources.find(
      (r) => r.kind === 'Gateway' && r.metadata.namespace === gw.namespace && r.metadata.name === gw.name,
    );
    if (!g) throw new Error(`Gateway ${gw.namespace}/${gw.name} is not in the gateway's configuration`);
    const status = isPlainObject(g.status) ? g.status : {};
    const addresses = Array.isArray(status.addresses) ? (status.addresses as Record<string, unknown>[]) : [];
    const a = addresses.find((x) => typeof x.type === 'string' && x.type !== '' && typeof x.value === 'string');
    if (!a) throw new Error(`Gateway ${gw.namespace}/${gw.name} has no status.addresses entry with a type`);
    cached = { address: a.value as string, port: listenerPort + ctx.portOffset };
    return cached;
  };
}

function secretText(ctx: TrafficContext, ref: SecretKeyRef): string | undefined {
  const obj = ctx.lookup(ref.kind || 'Secret', ref.namespace, ref.name);
  const key = ref.certKey ?? ref.key ?? 'tls.crt';
  const data = isPlainObject(obj?.data) ? obj.data : {};
  const v = data[key];
  if (typeof v !== 'string') return undefined;
  return obj?.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
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
    });
  } catch (err) {
    if (check.expectConnectionFailure) return { ok: true, echo: emptyEcho() };
    return { ok: false, reason: `${req.method ?? 'GET'} ${path}: ${(err as Error).message}` };
  }
  if (check.expectConnectionFailure)
    return { ok: false, reason: `got an HTTP response (${res.status}); the connection must fail` };
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

/**
 * Runs `fn(i)` for i < n with at most `concurrency` in flight. Once a
 * result satisfies `stop`, no new call starts (the ones in flight finish):
 * a round that has already failed is not worth finishing.
 */
async function inParallel<T>(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
  stop: (r: T) => boolean = () => false,
): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (next < n && !stopped) {
      const r = await fn(next++);
      out.push(r);
      if (stop(r)) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker));
  return out;
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

/** The backend name of a pod: its name without the last two `-` parts. */
export function backendOfPod(pod: string): string {
  return pod.split('-').slice(0, -2).join('-');
}

/** Why a distribution does not match (TRANSPORT-KINDS.md 3.5), or undefined. */
export function weightsMismatch(
  seen: Map<string, number>,
  expected: Record<string, number>,
  tolerance: number,
  total: number,
): string | undefined {
  const unknown = [...seen.keys()].filter((b) => !(b in expected));
  if (unknown.length) return `unexpected backend(s) ${unknown.join(', ')}`;
  const positive = Object.entries(expected).filter(([, w]) => w > 0).length;
  const shares = Object.keys(expected)
    .map((b) => `${b} ${((seen.get(b) ?? 0) / total).toFixed(3)}`)
    .join(', ');
  if (seen.size !== positive) return `${seen.size} backends answered, want ${positive} (${shares})`;
  for (const [b, want] of Object.entries(expected)) {
    const got = (seen.get(b) ?? 0) / total;
    if (Math.abs(got - want) > tolerance)
      return `${b} got share ${got.toFixed(3)}, want ${want} ± ${tolerance} (${shares})`;
  }
  return undefined;
}

async function weights(check: WeightsCheck, ctx: TrafficContext): Promise<TryResult> {
  if ((check.protocol ?? 'http') !== 'http')
    return { ok: false, reason: `weights over ${check.protocol} not supported` };
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
    default:
      return Promise.resolve({ ok: false, reason: `check kind ${check.kind} is not supported by the runner` });
  }
}

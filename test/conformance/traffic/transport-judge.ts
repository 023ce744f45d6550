/**
 * Judging the transport kinds (TRANSPORT-KINDS.md 6.1-6.4): what came back
 * in, a verdict out. No sockets here (./transport-checks.ts sends).
 */
import { GRPC_CODE_NAMES, grpcCodeByName } from '../../support/grpc-client.ts';
import type { EchoResponse } from '../../support/grpc-echo/messages.ts';
import type { TcpExchangeResult } from './l4-clients.ts';
import { TCP_WELCOME } from './l4-clients.ts';
import type { GrpcCheck, TcpExchangeSpec, TcpResponseSpec, UdpCheck } from './types.ts';

export type Judgement = { ok: true; pod: string } | { ok: false; reason: string; fatal?: boolean };

function bad(reason: string, fatal = false): Judgement {
  return fatal ? { ok: false, reason, fatal } : { ok: false, reason };
}

/** The backend of a pod name: without its last two `-` parts. */
export function backendOfPod(pod: string): string {
  return pod.split('-').slice(0, -2).join('-');
}

// --- weights ------------------------------------------------------------------

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

// --- TCP echo ---------------------------------------------------------------

interface TcpTestReply {
  namespace?: string;
  pod?: string;
  tls?: { serverName?: string };
}

function parseTestReply(line: string | undefined): TcpTestReply | string {
  if (line === undefined) return 'no TEST reply';
  try {
    const j: unknown = JSON.parse(line);
    return typeof j === 'object' && j !== null ? j : `TEST reply is not a JSON object: ${line}`;
  } catch {
    return `TEST reply is not JSON: ${JSON.stringify(line)}`;
  }
}

/**
 * A completed TCP echo exchange against the check (6.2): the welcome line,
 * and for `full` PONG, the IS_TLS answer, namespace, pod prefix
 * `backend-`, TLS server name; for `test` a non-empty pod.
 */
export function judgeTcpExchange(
  check: { request: TcpExchangeSpec; response?: TcpResponseSpec; backend?: string; namespace?: string },
  got: TcpExchangeResult,
): Judgement {
  const exchange = check.request.exchange ?? 'full';
  if (exchange === 'connect') return { ok: true, pod: '' };
  if (got.welcome !== TCP_WELCOME)
    return bad(`welcome line ${JSON.stringify(got.welcome)}, want ${JSON.stringify(TCP_WELCOME)}`);
  const reply = parseTestReply(got.test);
  if (typeof reply === 'string') return bad(reply);
  const pod = typeof reply.pod === 'string' ? reply.pod : '';
  if (exchange === 'test') return pod ? { ok: true, pod } : bad('TEST reply without pod');
  if (got.pong !== 'PONG') return bad(`PING answered ${JSON.stringify(got.pong)}, want "PONG"`);
  const wantTls = check.response?.backendIsTLS;
  if (wantTls !== undefined && got.isTls !== String(wantTls))
    return bad(`IS_TLS answered ${JSON.stringify(got.isTls)}, want "${String(wantTls)}"`);
  if (check.namespace !== undefined && reply.namespace !== check.namespace)
    return bad(`answered from namespace ${JSON.stringify(reply.namespace ?? '')}, want ${check.namespace}`);
  if (check.backend !== undefined && !pod.startsWith(`${check.backend}-`))
    return bad(`answered by pod ${JSON.stringify(pod)}, want backend ${check.backend}`);
  const sni = check.response?.backendServerName;
  if (sni !== undefined && (reply.tls?.serverName ?? '') !== sni)
    return bad(
      `backend saw TLS server name ${JSON.stringify(reply.tls?.serverName ?? '')}, want ${JSON.stringify(sni)}`,
    );
  return { ok: true, pod };
}

// --- gRPC -------------------------------------------------------------------

export interface GrpcOutcome {
  code: number;
  message: string;
  /** The decoded EchoResponse of an OK call. */
  response?: EchoResponse;
}

export function grpcCodeName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? `code ${code}`;
}

function splitValues(values: string[]): string[] {
  return values.flatMap((v) => v.split(',').map((x) => x.trim()));
}

/** Expected metadata against `assertions.headers` (6.1 `expectedRequestMetadata`), or undefined. */
export function metadataMismatch(
  want: Record<string, string | string[]>,
  headers: { key: string; value: string }[],
): string | undefined {
  for (const [name, value] of Object.entries(want)) {
    const lower = name.toLowerCase();
    const got = headers.filter((h) => h.key.toLowerCase() === lower).map((h) => h.value);
    if (!got.length) return `backend did not see metadata ${name} (want ${JSON.stringify(value)})`;
    const ok = Array.isArray(value)
      ? value.every((v) => got.includes(v) || splitValues(got).includes(v))
      : got.includes(value) || got.join(',') === value;
    if (!ok) return `backend saw metadata ${name}: ${JSON.stringify(got)}, want ${JSON.stringify(value)}`;
  }
  return undefined;
}

/** One call against a `grpc` check (6.1). */
export function judgeGrpc(check: GrpcCheck, out: GrpcOutcome): Judgement {
  const { code: want, codeNot } = check.response ?? { code: 'OK' };
  const got = `${grpcCodeName(out.code)}${out.message ? ` (${out.message})` : ''}`;
  if (codeNot !== undefined) {
    const not = grpcCodeByName(codeNot);
    if (not === undefined) return bad(`unknown gRPC status name ${codeNot}`, true);
    // Upstream "RPC must fail": an answer with that status fails the check at once.
    if (out.code === not) return bad(`call answered ${got}, want any status but ${codeNot}`, true);
    if (out.code !== 0) return { ok: true, pod: '' };
  } else {
    const code = grpcCodeByName(want ?? 'OK');
    if (code === undefined) return bad(`unknown gRPC status name ${want}`, true);
    if (out.code !== code) return bad(`call answered ${got}, want ${want ?? 'OK'}`);
    if (code !== 0) return { ok: true, pod: '' };
  }
  const a = out.response?.assertions;
  if (!a) return bad('OK without an EchoResponse carrying assertions');
  const method = `/${check.request.service}/${check.request.method}`;
  if (a.fullyQualifiedMethod !== method)
    return bad(`backend saw method ${JSON.stringify(a.fullyQualifiedMethod)}, want ${method}`);
  const pod = a.context?.pod ?? '';
  if (check.namespace !== undefined && (a.context?.namespace ?? '') !== check.namespace)
    return bad(`answered from namespace ${JSON.stringify(a.context?.namespace ?? '')}, want ${check.namespace}`);
  if (check.backend !== undefined && !pod.startsWith(check.backend))
    return bad(`answered by pod ${JSON.stringify(pod)}, want backend ${check.backend}`);
  if (check.expectedRequestMetadata) {
    const why = metadataMismatch(check.expectedRequestMetadata, a.headers);
    if (why)
      return bad(
        check.metadataCheckedUpstream === false ? `${why} (an expectation upstream declares but never checks)` : why,
      );
  }
  return { ok: true, pod };
}

// --- UDP --------------------------------------------------------------------

interface UdpEchoJson {
  request?: string;
  namespace?: string;
  service?: string;
  pod?: string;
}

/** One reply datagram against a `udp` check (6.4); the pod is `""` when the reply is not parsed. */
export function judgeUdpReply(
  check: Pick<UdpCheck, 'service' | 'namespace' | 'backend' | 'request'>,
  reply: Buffer,
  isDnsReply: (b: Buffer) => boolean,
): Judgement {
  if (check.request.dnsQuery) return isDnsReply(reply) ? { ok: true, pod: '' } : bad('the reply is not a DNS response');
  if (check.service === undefined && check.namespace === undefined && check.backend === undefined)
    return { ok: true, pod: '' };
  let j: UdpEchoJson;
  try {
    j = JSON.parse(reply.toString('utf8')) as UdpEchoJson;
  } catch {
    return bad(`the reply is not UDP echo JSON: ${JSON.stringify(reply.toString('utf8').slice(0, 200))}`);
  }
  const pod = typeof j.pod === 'string' ? j.pod : '';
  if (check.service !== undefined && j.service !== check.service)
    return bad(`answered by service ${JSON.stringify(j.service ?? '')}, want ${check.service}`);
  if (check.namespace !== undefined && j.namespace !== check.namespace)
    return bad(`answered from namespace ${JSON.stringify(j.namespace ?? '')}, want ${check.namespace}`);
  if (check.backend !== undefined && backendOfPod(pod) !== check.backend)
    return bad(`answered by pod ${JSON.stringify(pod)}, want backend ${check.backend}`);
  return { ok: true, pod };
}

// --- TLS rejection ------------------------------------------------------------

/**
 * How a `tls` check with `response.rejected` reads a handshake attempt
 * (6.3): only a connection closed (EOF) or reset before the handshake
 * completed counts; refused, timed out, an alert, a certificate error or a
 * completed handshake do not.
 */
export function rejectedVerdict(outcome: { completed: true } | { error: NodeJS.ErrnoException }): Judgement {
  if ('completed' in outcome) return bad('the TLS handshake completed; the gateway must cut it');
  const err = outcome.error;
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return { ok: true, pod: '' };
  return bad(`the handshake failed otherwise than by a close or reset: ${err.code ?? ''} ${err.message}`.trim());
}

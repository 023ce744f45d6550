/**
 * Downstream TLS parameters: the gateway's defaults and the IR's
 * `ListenerTLSIR.settings` (ClientTrafficPolicy) turned into node's secure
 * context options. Defaults follow Envoy Gateway's: TLS 1.2 to 1.3, and for
 * TLS 1.2 only ECDHE with AEAD ciphers (CBC suites are what testssl.sh flags
 * as LUCKY13, static RSA has no forward secrecy).
 */
import { constants } from 'node:crypto';
import type { SecureVersion } from 'node:tls';
import type { TLSSettingsIR, TLSVersionIR } from '../../ir/types.ts';

export const DEFAULT_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** h2 first: clients that speak both get HTTP/2. */
export const DEFAULT_ALPN: readonly string[] = ['h2', 'http/1.1'];

/** What the listeners can serve once negotiated (http/1.0 is served by the HTTP/1 server). */
const SERVABLE_ALPN = new Set(['h2', 'http/1.1', 'http/1.0']);

/** Node's default ticket lifetime hint, in seconds. */
const DEFAULT_SESSION_TIMEOUT_S = 300;

const VERSIONS: Record<Exclude<TLSVersionIR, 'Auto'>, SecureVersion> = {
  '1.0': 'TLSv1',
  '1.1': 'TLSv1.1',
  '1.2': 'TLSv1.2',
  '1.3': 'TLSv1.3',
};

/** The part of `tls.createSecureContext()` options that settings decide. */
export interface ContextSettings {
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  ciphers: string;
  ecdhCurve?: string;
  sigalgs?: string;
  sessionTimeout: number;
  honorCipherOrder: true;
  secureOptions: number;
}

export interface ResolvedTlsSettings {
  readonly context: ContextSettings;
  /** ALPN protocols in preference order. */
  readonly alpn: readonly string[];
  /** Equal keys mean equal `context` (cache key, and comparison across listeners of a port). */
  readonly key: string;
}

/** Settings with defaults applied; what cannot be honoured is reported in `problems` and left at its default. */
export function resolveTlsSettings(s: TLSSettingsIR | undefined, problems: string[]): ResolvedTlsSettings {
  const minVersion = version(s?.minVersion, 'TLSv1.2');
  let maxVersion = version(s?.maxVersion, 'TLSv1.3');
  if (rank(maxVersion) < rank(minVersion)) {
    problems.push(`tls settings: maxVersion ${s?.maxVersion} is below minVersion ${s?.minVersion}; maxVersion ignored`);
    maxVersion = 'TLSv1.3';
  }
  // Renegotiation is refused (a CPU-exhaustion vector); the server picks the cipher by its own order.
  let secureOptions = constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_CIPHER_SERVER_PREFERENCE;
  const resumption = s?.session?.resumption ?? 'Stateless';
  if (resumption === 'None') secureOptions |= constants.SSL_OP_NO_TICKET;
  if (resumption === 'Stateful') {
    problems.push('tls settings: session.resumption Stateful is not supported; session tickets (Stateless) are used');
  }
  const context: ContextSettings = {
    minVersion,
    maxVersion,
    ciphers: s?.ciphers !== undefined && s.ciphers.length > 0 ? withTls13Suites(s.ciphers) : DEFAULT_CIPHERS,
    sessionTimeout: s?.session?.ticketLifetimeSeconds ?? DEFAULT_SESSION_TIMEOUT_S,
    honorCipherOrder: true,
    secureOptions,
  };
  if (s?.ecdhCurves !== undefined && s.ecdhCurves.length > 0) context.ecdhCurve = s.ecdhCurves.join(':');
  if (s?.signatureAlgorithms !== undefined && s.signatureAlgorithms.length > 0) {
    context.sigalgs = s.signatureAlgorithms.join(':');
  }
  let alpn = DEFAULT_ALPN;
  if (s?.alpnProtocols !== undefined && s.alpnProtocols.length > 0) {
    const usable = s.alpnProtocols.filter((p) => SERVABLE_ALPN.has(p));
    for (const p of s.alpnProtocols) {
      if (!SERVABLE_ALPN.has(p)) problems.push(`tls settings: alpnProtocols: ${p} cannot be served; ignored`);
    }
    if (usable.length > 0) alpn = usable;
  }
  const key = [
    context.minVersion,
    context.maxVersion,
    context.ciphers,
    context.ecdhCurve ?? '',
    context.sigalgs ?? '',
    context.sessionTimeout,
    context.secureOptions,
  ].join('|');
  return { context, alpn, key };
}

function version(v: TLSVersionIR | undefined, fallback: SecureVersion): SecureVersion {
  return v === undefined || v === 'Auto' ? fallback : VERSIONS[v];
}

function rank(v: SecureVersion): number {
  return ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'].indexOf(v);
}

/**
 * node takes TLS 1.3 suites from the same string; a list naming only TLS 1.2
 * ciphers (the usual ClientTrafficPolicy) keeps the default TLS 1.3 suites
 * rather than disabling TLS 1.3.
 */
function withTls13Suites(ciphers: string[]): string {
  if (ciphers.some((c) => c.startsWith('TLS_'))) return ciphers.join(':');
  return [...DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_')), ...ciphers].join(':');
}

/**
 * The TLS side of one bound HTTPS socket, built at apply time: per listener
 * hostname a ready SecureContext (exact names before wildcards, as the
 * router matches Host), the listener used when the client sends no SNI or
 * an unknown one (the catch-all listener, else the first), and the client
 * certificate policy. A new configuration builds a new instance; the
 * listener swaps it in and new handshakes use it, while established
 * connections keep the context they were made with.
 */
import { X509Certificate } from 'node:crypto';
import type { SecureContext, SecureContextOptions } from 'node:tls';
import type { CertificateIR, ListenerIR } from '../../ir/types.ts';
import { HostTable } from '../router/host-table.ts';
import { sessionIdContextFor, type ContextSpec, type SecureContextCache } from './secure-contexts.ts';
import { resolveTlsSettings } from './tls-settings.ts';

export type ClientValidationMode = 'AllowValidOnly' | 'AllowInsecureFallback';

export interface TlsListener {
  /** IR listener name. */
  readonly name: string;
  readonly hostname: string | undefined;
  /** The context installed by SNI (one certificate, see `buildTlsListener`). */
  readonly context: SecureContext;
  readonly alpn: readonly string[];
  /** Null: no client certificate is asked for on this listener. */
  readonly validation: ClientValidationMode | null;
  /** Equal for listeners validating client certificates the same way. */
  readonly validationKey: string;
  /** Every certificate of the listener, for the socket's default context. */
  readonly spec: ContextSpec;
}

export class SniContexts {
  private readonly byHost = new HostTable<TlsListener>();
  readonly fallback: TlsListener;
  /** Ask every client for a certificate (some listener validates them). */
  readonly requestCert: boolean;
  /** Every listener requires a valid one: OpenSSL refuses the handshake itself. */
  readonly rejectUnauthorized: boolean;
  /** Listeners disagree: AllowValidOnly is enforced per connection, after the handshake, by SNI. */
  readonly checkPerConnection: boolean;
  /**
   * When listeners validate client certificates differently, a connection
   * without SNI counts as made for the fallback listener (421 for other
   * hosts), so that leaving SNI out cannot skip a validation.
   */
  readonly noSniListener: string | null;
  /** Options of the context used before (or without) SNI; its settings apply to every handshake on the socket. */
  readonly defaultOptions: SecureContextOptions;
  /** Changes exactly when `defaultOptions` does. */
  readonly defaultKey: string;
  /** Listeners whose TLS settings the socket cannot honour (versions and ciphers are per socket). */
  readonly conflicts: string[] = [];

  constructor(listeners: readonly TlsListener[], cache: SecureContextCache) {
    if (listeners.length === 0) throw new Error('an HTTPS socket needs at least one listener');
    for (const l of listeners) this.byHost.add(l.hostname, l);
    this.fallback = listeners.find((l) => l.hostname === undefined || l.hostname === '*') ?? listeners[0];
    const validating = listeners.filter((l) => l.validation !== null);
    const uniform = listeners.every((l) => l.validationKey === listeners[0].validationKey);
    this.requestCert = validating.length > 0;
    this.rejectUnauthorized = uniform && this.requestCert && listeners[0].validation === 'AllowValidOnly';
    this.checkPerConnection = !uniform && listeners.some((l) => l.validation === 'AllowValidOnly');
    this.noSniListener = uniform ? null : this.fallback.name;
    this.defaultOptions = cache.options(this.fallback.spec);
    this.defaultKey = cache.keyOf(this.fallback.spec);
    for (const l of listeners) {
      if (l.spec.settings.key !== this.fallback.spec.settings.key) {
        this.conflicts.push(
          `listener ${l.name}: TLS settings differ from listener ${this.fallback.name} on the same port; the port uses ${this.fallback.name}'s (except ALPN)`,
        );
      }
    }
  }

  /**
   * For SNICallback: the context to switch to, or undefined to stay on the
   * socket's default context (the fallback listener's, with all its certificates).
   */
  sniContext(servername: string): SecureContext | undefined {
    const l = this.select(servername);
    return l === this.fallback ? undefined : l.context;
  }

  /** The listener a handshake is for: by SNI (lower case, without a trailing dot), else the fallback. */
  select(servername: string | false | undefined | null): TlsListener {
    if (typeof servername !== 'string' || servername === '') return this.fallback;
    return this.byHost.lookup(normalizeServername(servername)) ?? this.fallback;
  }

  /** ALPN choice: the selected listener's protocols in its order of preference; undefined = none in common (fatal alert). */
  alpn(servername: string | undefined, offered: readonly string[]): string | undefined {
    const prefs = this.select(servername).alpn;
    for (const p of prefs) if (offered.includes(p)) return p;
    return undefined;
  }
}

export function normalizeServername(name: string): string {
  const n = name.charCodeAt(name.length - 1) === 46 /* . */ ? name.slice(0, -1) : name;
  return n.toLowerCase();
}

/**
 * Builds the TLS state of one HTTPS listener, or returns the reason it
 * cannot be served (no certificate, PEMs node refuses). Settings that
 * cannot be honoured are reported in `problems`.
 */
export function buildTlsListener(
  l: ListenerIR,
  cache: SecureContextCache,
  problems: string[],
): TlsListener | { error: string } {
  const t = l.tls;
  if (t === undefined || t.mode !== 'Terminate') return { error: 'an HTTPS listener needs tls.mode Terminate' };
  if (t.certificates.length === 0) return { error: 'no TLS certificate' };
  const settingsProblems: string[] = [];
  const settings = resolveTlsSettings(t.settings, settingsProblems);
  for (const p of settingsProblems) problems.push(`listener ${l.name}: ${p}`);
  const v = t.clientValidation;
  const validation = v === undefined || v.caPems.length === 0 ? null : v.mode;
  const validationKey = validation === null ? 'none' : `${validation}\0${v!.caPems.join('\0')}`;
  const spec: ContextSpec = {
    certificates: t.certificates,
    caPems: validation === null ? [] : v!.caPems,
    settings,
    sessionIdContext: sessionIdContextFor(validationKey),
  };
  try {
    const sniCert = t.certificates.length === 1 ? t.certificates : [preferredForSni(t.certificates)];
    const context = cache.get({ ...spec, certificates: sniCert });
    // The default context gets them all; building it here checks every pair.
    if (sniCert.length !== t.certificates.length) cache.get(spec);
    return { name: l.name, hostname: l.hostname, context, alpn: settings.alpn, validation, validationKey, spec };
  } catch (err) {
    const secrets = t.certificates.map((c) => c.secret).join(', ');
    return { error: `certificates ${secrets} cannot be used: ${(err as Error).message}` };
  }
}

/**
 * node installs a single certificate when SNI switches contexts (the last
 * one set; OpenSSL's choice among RSA and ECDSA by the client's signature
 * algorithms only happens on the socket's default context). A listener
 * reached by SNI is served its first ECDSA certificate (every TLS 1.2+
 * client takes P-256), else its first one.
 */
export function preferredForSni(certs: readonly CertificateIR[]): CertificateIR {
  for (const c of certs) {
    try {
      if (new X509Certificate(c.certPem).publicKey.asymmetricKeyType === 'ec') return c;
    } catch {
      // Unparsable: createSecureContext reports it.
    }
  }
  return certs[0];
}

/**
 * The TLS side of one bound HTTPS socket, built at apply time: per listener
 * hostname a ready SecureContext with all of that listener's certificates
 * and TLS settings (exact names before wildcards, as the router matches
 * Host), the listener used when the client sends no SNI or an unknown one
 * (the catch-all listener, else the first), and each listener's client
 * certificate policy. The listener is picked from the ClientHello before
 * TLS starts (https-listener.ts), so every listener of a shared port gets
 * its own versions, ciphers, curves, certificates (RSA and ECDSA, chosen by
 * OpenSSL from the client's signature algorithms) and client validation.
 * A new configuration builds a new instance; the listener swaps it in and
 * new handshakes use it, while established connections keep the context
 * they were made with.
 */
import type { SecureContext, SecureContextOptions } from 'node:tls';
import type { ListenerIR } from '../../ir/types.ts';
import { HostTable } from '../router/host-table.ts';
import { buildClientCertPolicy, type ClientCertPolicy } from './client-validation.ts';
import { sessionIdContextFor, type ContextSpec, type SecureContextCache } from './secure-contexts.ts';
import { resolveTlsSettings } from './tls-settings.ts';

export interface TlsListener {
  /** IR listener name. */
  readonly name: string;
  readonly hostname: string | undefined;
  /** The context a handshake for this listener starts with: all its certificates and settings. */
  readonly context: SecureContext;
  readonly alpn: readonly string[];
  /** Null: no client certificate is asked for on this listener. */
  readonly client: ClientCertPolicy | null;
  /** OpenSSL refuses the handshake itself (the policy is exactly "a certificate from the CAs"). */
  readonly rejectUnauthorized: boolean;
  /** The policy is checked after the handshake (`client.accepts`), before any HTTP is read. */
  readonly checkAfterHandshake: boolean;
  /** Equal for listeners whose handshakes accept the same clients with the same TLS settings. */
  readonly handshakeKey: string;
  /** Every certificate and setting of the listener (the socket's initial context). */
  readonly spec: ContextSpec;
  /** Metrics id of the listener's connection and handshake series (set at compile time; -1 = not counted). */
  metricsSeries: number;
}

export class SniContexts {
  private readonly byHost = new HostTable<TlsListener>();
  readonly fallback: TlsListener;
  /**
   * When listeners differ in their handshakes (client validation, TLS
   * settings), a connection without SNI counts as made for the fallback
   * listener (421 for other hosts), so that leaving SNI out cannot skip a
   * validation or a TLS version floor.
   */
  readonly noSniListener: string | null;
  /** Options of the server's initial context (replaced per connection by the selected listener's). */
  readonly defaultOptions: SecureContextOptions;
  /** Changes exactly when `defaultOptions` does. */
  readonly defaultKey: string;
  /**
   * Listener settings the socket cannot honour. None since each handshake
   * uses its listener's own context; kept for the compile step's report.
   */
  readonly conflicts: string[] = [];

  constructor(
    listeners: readonly TlsListener[],
    private readonly cache: SecureContextCache,
  ) {
    if (listeners.length === 0) throw new Error('an HTTPS socket needs at least one listener');
    for (const l of listeners) this.byHost.add(l.hostname, l);
    this.fallback = listeners.find((l) => l.hostname === undefined || l.hostname === '*') ?? listeners[0];
    const uniform = listeners.every((l) => l.handshakeKey === listeners[0].handshakeKey);
    this.noSniListener = uniform ? null : this.fallback.name;
    this.defaultOptions = cache.options(this.fallback.spec);
    this.defaultKey = cache.keyOf(this.fallback.spec);
  }

  /** The listener a handshake is for: by SNI (lower case, without a trailing dot), else the fallback. */
  select(servername: string | false | undefined | null): TlsListener {
    if (typeof servername !== 'string' || servername === '') return this.fallback;
    return this.byHost.lookup(normalizeServername(servername)) ?? this.fallback;
  }

  /**
   * The context a handshake for `l` starts with: the listener's, or, for a
   * session ticket of the previous key period, the same with that period's
   * key (built on first use; see ticket-keys.ts).
   */
  contextFor(l: TlsListener, ticketName: Buffer | undefined): SecureContext {
    if (ticketName === undefined || !this.cache.tickets.isPrevious(ticketName)) return l.context;
    try {
      return this.cache.get(l.spec, this.cache.tickets.period - 1);
    } catch {
      return l.context; // the same PEMs built l.context: not expected; a full handshake then
    }
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
 * cannot be served (no certificate, PEMs node refuses, a client validation
 * matcher that cannot be compiled). Settings that cannot be honoured are
 * reported in `problems`.
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
  let client: ClientCertPolicy | null = null;
  if (v !== undefined && v.caPems.length > 0) {
    try {
      client = buildClientCertPolicy(v, 'clientValidation');
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  const validationKey = client === null ? 'none' : `${client.key}\0${v!.caPems.join('\0')}`;
  const spec: ContextSpec = {
    certificates: t.certificates,
    caPems: client === null ? [] : v!.caPems,
    settings,
    sessionIdContext: sessionIdContextFor(validationKey),
  };
  try {
    const context = cache.get(spec);
    return {
      name: l.name,
      hostname: l.hostname,
      context,
      alpn: settings.alpn,
      client,
      rejectUnauthorized: client?.plain === true,
      checkAfterHandshake: client !== null && !client.plain && client.verification !== 'Request',
      handshakeKey: `${settings.key}\0${validationKey}`,
      spec,
      metricsSeries: -1,
    };
  } catch (err) {
    const secrets = t.certificates.map((c) => c.secret).join(', ');
    return { error: `certificates ${secrets} cannot be used: ${(err as Error).message}` };
  }
}

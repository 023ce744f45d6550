/**
 * node SecureContexts built from IR certificates, once per distinct content:
 * an IR applied again (new endpoints, new routes) reuses the contexts whose
 * certificates, CAs, settings and ticket key did not change, so parsing
 * keys never happens per handshake and rarely per apply. Contexts no longer
 * used are dropped at the end of each compile; connections holding one keep
 * it alive as long as they need it.
 */
import { createHash } from 'node:crypto';
import tls, { type SecureContext, type SecureContextOptions } from 'node:tls';
import type { CertificateIR } from '../../ir/types.ts';
import type { TicketKeys } from './ticket-keys.ts';
import type { ResolvedTlsSettings } from './tls-settings.ts';

export interface ContextSpec {
  certificates: readonly CertificateIR[];
  /** CAs that client certificates are checked against; empty = none asked for. */
  caPems: readonly string[];
  settings: ResolvedTlsSettings;
  /**
   * Sessions are only resumed in a context with the same id: listeners that
   * validate client certificates differently never share sessions (a session
   * carries the client certificate it was verified with).
   */
  sessionIdContext: string;
}

export class SecureContextCache {
  private contexts = new Map<string, SecureContext>();
  private used = new Set<string>();

  constructor(readonly tickets: TicketKeys) {}

  /**
   * Throws (node's message) when the PEMs are unusable, e.g. a key that does
   * not match its certificate. `period`: whose ticket key (default: now).
   */
  get(spec: ContextSpec, period = this.tickets.period): SecureContext {
    const key = this.keyOf(spec, period);
    this.used.add(key);
    let ctx = this.contexts.get(key);
    if (ctx === undefined) {
      ctx = tls.createSecureContext(this.options(spec, period));
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /** Full options for the same context (the server's initial one). */
  options(spec: ContextSpec, period = this.tickets.period): SecureContextOptions {
    const opts: SecureContextOptions = {
      ...spec.settings.context,
      key: spec.certificates.map((c) => c.keyPem),
      cert: spec.certificates.map((c) => c.certPem),
      ticketKeys: this.tickets.keyFor(period),
      sessionIdContext: spec.sessionIdContext,
    };
    if (spec.caPems.length > 0) opts.ca = [...spec.caPems];
    return opts;
  }

  /** Identity of a spec's context (its content and the ticket key period). */
  keyOf(spec: ContextSpec, period = this.tickets.period): string {
    const h = createHash('sha256');
    h.update(`${period}\0${spec.settings.key}\0${spec.sessionIdContext}\0`);
    for (const c of spec.certificates) h.update(`${c.certPem}\0${c.keyPem}\0`);
    h.update('\0');
    for (const ca of spec.caPems) h.update(`${ca}\0`);
    return h.digest('base64');
  }

  /** Forgets the contexts not asked for since the previous sweep. */
  sweep(): void {
    for (const key of this.contexts.keys()) if (!this.used.has(key)) this.contexts.delete(key);
    this.used = new Set();
  }
}

/** A session id context (≤ 32 bytes) naming a client validation setup. */
export function sessionIdContextFor(validation: string): string {
  return createHash('sha256').update(validation).digest('hex').slice(0, 32);
}

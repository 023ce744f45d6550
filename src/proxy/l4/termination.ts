/**
 * TLS termination for TLS listeners in Terminate mode: the listener's
 * certificates as ready SecureContexts, chosen by the SNI already read from
 * the ClientHello (a certificate whose names cover it, else the first), and
 * the listener's client certificate policy (what OpenSSL cannot decide is
 * checked by `accepts` once the handshake is done, before any byte reaches
 * a backend). Built once per configuration.
 */
import { X509Certificate } from 'node:crypto';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import type { ListenerTLSIR } from '../../ir/types.ts';
import { HostTable } from '../router/host-table.ts';
import { buildClientCertPolicy, settleAuthorization, type ClientCertPolicy } from '../tls/client-validation.ts';
import { resolveTlsSettings } from '../tls/tls-settings.ts';

export class Termination {
  private readonly byName = new HostTable<SecureContext>();
  private readonly first: SecureContext;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  private readonly client: ClientCertPolicy | null;

  /** Throws when node refuses a certificate or key (the caller reports the listener). */
  constructor(t: ListenerTLSIR, problems: string[]) {
    if (t.certificates.length === 0) throw new Error('no TLS certificate');
    const settings = resolveTlsSettings(t.settings, problems).context;
    const cas = t.clientValidation?.caPems ?? [];
    let first: SecureContext | undefined;
    for (const c of t.certificates) {
      let ctx: SecureContext;
      try {
        ctx = tls.createSecureContext({
          ...settings,
          cert: c.certPem,
          key: c.keyPem,
          ...(cas.length > 0 ? { ca: cas } : {}),
        });
      } catch (err) {
        throw new Error(`certificate ${c.secret} cannot be used: ${(err as Error).message}`, { cause: err });
      }
      first ??= ctx;
      for (const name of dnsNames(c.certPem)) this.byName.add(name, ctx);
    }
    this.first = first!;
    this.client = cas.length > 0 ? buildClientCertPolicy(t.clientValidation!, 'clientValidation') : null;
    this.requestCert = this.client !== null;
    this.rejectUnauthorized = this.client?.plain === true;
  }

  /**
   * The client certificate policy's verdict on a completed handshake. The
   * socket is not a tls.Server's, so OpenSSL's result is read here: even
   * `rejectUnauthorized` only refuses a missing certificate by itself.
   */
  accepts(socket: TLSSocket): boolean {
    if (this.client === null) return true;
    settleAuthorization(socket);
    return this.client.plain ? socket.authorized : this.client.accepts(socket);
  }

  contextFor(sni: string | undefined): SecureContext {
    return (sni === undefined ? undefined : this.byName.lookup(sni)) ?? this.first;
  }
}

/** DNS names of a certificate (its SANs, else its CN), lower case. */
function dnsNames(pem: string): string[] {
  try {
    const x = new X509Certificate(pem);
    const sans = (x.subjectAltName ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4).toLowerCase());
    if (sans.length > 0) return sans;
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
    return cn ? [cn.toLowerCase()] : [];
  } catch {
    return [];
  }
}

/**
 * The TLS half of an HTTPS listener: node's https.Server with certificates
 * chosen by SNI from contexts built at apply time (tls/sni-contexts.ts),
 * ALPN `h2` or `http/1.1` per listener, client certificates asked for and
 * checked as the listeners' frontend validation says, and a bounded
 * handshake. After the handshake, `h2` connections go to the HTTP/2
 * endpoint and the rest to node's HTTP/1 handling of the same server.
 */
import type { IncomingMessage, ServerOptions as HttpServerOptions } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ProxyResponse } from '../http/handle-request.ts';
import type { ProxyTuning } from '../http/tuning.ts';
import type { SniContexts } from '../tls/sni-contexts.ts';
import { takeOverConnections } from './connection-takeover.ts';

export type HttpsServer = https.Server<typeof IncomingMessage, typeof ProxyResponse>;

/** node reads these per connection; they are plain properties of tls.Server, missing from its types. */
interface ClientCertFlags {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export class TlsTermination {
  readonly server: HttpsServer;
  private contexts: SniContexts;
  private defaultKey: string;

  constructor(
    contexts: SniContexts,
    tuning: ProxyTuning,
    httpOptions: HttpServerOptions<typeof IncomingMessage, typeof ProxyResponse>,
    h2: (socket: Socket) => void,
  ) {
    this.contexts = contexts;
    this.defaultKey = contexts.defaultKey;
    this.server = https.createServer<typeof IncomingMessage, typeof ProxyResponse>({
      ...httpOptions,
      ...contexts.defaultOptions,
      requestCert: contexts.requestCert,
      rejectUnauthorized: contexts.rejectUnauthorized,
      handshakeTimeout: tuning.tlsHandshakeTimeoutMs,
      // Contexts are ready-made: a handshake costs one table lookup.
      SNICallback: (servername, cb) => cb(null, this.contexts.sniContext(servername)),
      ALPNCallback: ({ servername, protocols }) => this.contexts.alpn(servername, protocols),
    });
    this.server.setTicketKeys(ticketKeysOf(contexts));
    takeOverConnections(this.server, 'secureConnection', (socket, http1) => {
      const s = socket as TLSSocket;
      const c = this.contexts;
      if (c.checkPerConnection && !s.authorized && c.select(s.servername).validation === 'AllowValidOnly') {
        s.destroy();
        return;
      }
      if (s.alpnProtocol === 'h2') h2(s);
      else http1(s);
    });
    // Failed handshakes (timeout, refused client certificate, not TLS at all) end quietly; node's
    // default hands them to 'clientError', whose handler answers in HTTP.
    this.server.removeAllListeners('tlsClientError');
    this.server.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
  }

  /** See ListenerInfo.noSniListener. */
  get noSniListener(): string | null {
    return this.contexts.noSniListener;
  }

  /**
   * New certificates, client validation and settings, for handshakes from
   * now on. Connections already established keep what they negotiated.
   */
  update(next: SniContexts): void {
    this.contexts = next;
    const flags = this.server as unknown as ClientCertFlags;
    flags.requestCert = next.requestCert;
    flags.rejectUnauthorized = next.rejectUnauthorized;
    if (next.defaultKey !== this.defaultKey) {
      this.server.setSecureContext(next.defaultOptions);
      this.server.setTicketKeys(ticketKeysOf(next));
      this.defaultKey = next.defaultKey;
    }
  }
}

function ticketKeysOf(c: SniContexts): Buffer {
  return c.defaultOptions.ticketKeys as Buffer;
}

/**
 * The TCP echo of the conformance backends (TRANSPORT-KINDS.md §7.1,
 * echo-basic with TCP_ECHO_SERVER): on every connection, after the TLS
 * handshake on the TLS port, a welcome line, then one answer per line:
 * `PING` → `PONG`, `IS_TLS` → `true`/`false`, `TEST` → one JSON line with
 * the identity and, on TLS, what was negotiated (Go's names). Anything else
 * is ignored; the connection stays open until the client closes it.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';

export const TCP_ECHO_WELCOME = 'Gateway API Test TCP Server\n';

/** What upstream reads from POD_NAME, NAMESPACE, SERVICE_NAME, INGRESS_NAME (empty when unset). */
export interface EchoIdentity {
  pod?: string;
  namespace?: string;
  service?: string;
  ingress?: string;
}

export interface TcpEchoOptions extends EchoIdentity {
  /** Default 127.0.0.1. */
  host?: string;
  /** Plain TCP port; default 0 (any). */
  port?: number;
  /** Also serve TLS (TLS >= 1.2, no client certificate asked for). */
  tls?: { cert: string; key: string; port?: number };
}

export interface RunningTcpEcho {
  port: number;
  /** Set when `tls` was given. */
  tlsPort?: number;
  close(): Promise<void>;
}

/** The `tls` object of the TEST reply. */
export interface TcpEchoTlsInfo {
  version: string;
  serverName: string;
  curves: string;
  cipherSuite: string;
  negotiatedProtocol?: string;
}

export interface TcpEchoTestReply {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
  tcpport: string;
  tlsport: string;
  isTLS: boolean;
  tls?: TcpEchoTlsInfo;
}

const GO_VERSIONS: Record<string, string> = {
  TLSv1: 'TLS 1.0',
  'TLSv1.1': 'TLS 1.1',
  'TLSv1.2': 'TLS 1.2',
  'TLSv1.3': 'TLS 1.3',
};

/** OpenSSL group names → Go's CurveID names. */
const GO_CURVES: Record<string, string> = {
  X25519: 'X25519',
  prime256v1: 'CurveP256',
  secp384r1: 'CurveP384',
  secp521r1: 'CurveP521',
  X25519MLKEM768: 'X25519MLKEM768',
};

export async function startTcpEcho(opts: TcpEchoOptions = {}): Promise<RunningTcpEcho> {
  const host = opts.host ?? '127.0.0.1';
  const ports = { tcp: '', tls: '' };
  const sockets = new Set<Socket>();
  const serve = (s: Socket, secure: TLSSocket | null): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.write(TCP_ECHO_WELCOME);
    let pending = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        const answer = answerLine(line, secure, opts, ports);
        if (answer !== null) s.write(answer);
      }
      if (pending.length > 64 * 1024) s.destroy(); // no line is that long
    });
    // The client may half-close and still read what is owed; then close our side too.
    s.on('end', () => s.end());
  };

  const plain = net.createServer({ allowHalfOpen: true }, (s) => serve(s, null));
  await listen(plain, host, opts.port ?? 0);
  ports.tcp = String((plain.address() as AddressInfo).port);
  let secure: tls.Server | undefined;
  if (opts.tls !== undefined) {
    secure = tls.createServer(
      { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2', allowHalfOpen: true },
      (s) => serve(s, s),
    );
    secure.on('tlsClientError', () => {});
    await listen(secure, host, opts.tls.port ?? 0);
    ports.tls = String((secure.address() as AddressInfo).port);
  }
  return {
    port: Number(ports.tcp),
    ...(secure ? { tlsPort: Number(ports.tls) } : {}),
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([close(plain), secure ? close(secure) : undefined]);
    },
  };
}

function answerLine(
  line: string,
  secure: TLSSocket | null,
  id: EchoIdentity,
  ports: { tcp: string; tls: string },
): string | null {
  switch (line) {
    case 'PING':
      return 'PONG\n';
    case 'IS_TLS':
      return `${secure !== null}\n`;
    case 'TEST': {
      const reply: TcpEchoTestReply = {
        namespace: id.namespace ?? '',
        ingress: id.ingress ?? '',
        service: id.service ?? '',
        pod: id.pod ?? '',
        tcpport: ports.tcp,
        tlsport: ports.tls,
        isTLS: secure !== null,
        ...(secure !== null ? { tls: tlsInfo(secure) } : {}),
      };
      return `${JSON.stringify(reply)}\n`;
    }
    default:
      return null;
  }
}

export function tlsInfo(s: TLSSocket): TcpEchoTlsInfo {
  const protocol = s.getProtocol() ?? '';
  // node reports the key exchange group only on the client side; a server socket gives null.
  const group = s.getEphemeralKeyInfo() as { name?: string } | null;
  return {
    version: GO_VERSIONS[protocol] ?? protocol,
    serverName: typeof s.servername === 'string' ? s.servername : '',
    curves: group?.name !== undefined ? (GO_CURVES[group.name] ?? group.name) : '',
    cipherSuite: s.getCipher()?.standardName ?? '',
    ...(s.alpnProtocol ? { negotiatedProtocol: s.alpnProtocol } : {}),
  };
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

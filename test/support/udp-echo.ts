/**
 * The UDP echo of the conformance backends (TRANSPORT-KINDS.md §7.2,
 * echo-basic with UDP_ECHO_SERVER): each datagram (up to 1024 bytes read)
 * is answered with one datagram of JSON naming the request and the
 * backend's identity, sent back to the sender.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { EchoIdentity } from './tcp-echo.ts';

export interface UdpEchoOptions extends EchoIdentity {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any). */
  port?: number;
}

export interface UdpEchoReply {
  request: string;
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

export interface RunningUdp {
  port: number;
  close(): Promise<void>;
}

/** echo-basic reads into a 1024-byte buffer: longer datagrams are cut there. */
const READ_BYTES = 1024;

export function startUdpEcho(opts: UdpEchoOptions = {}): Promise<RunningUdp> {
  return bindUdp(opts.host, opts.port, (socket, msg, rinfo) => {
    const reply: UdpEchoReply = {
      request: msg.subarray(0, READ_BYTES).toString('utf8'),
      namespace: opts.namespace ?? '',
      ingress: opts.ingress ?? '',
      service: opts.service ?? '',
      pod: opts.pod ?? '',
    };
    socket.send(JSON.stringify(reply), rinfo.port, rinfo.address);
  });
}

/** A UDP socket answering each datagram through `onMessage`; shared with the DNS responder. */
export function bindUdp(
  host: string | undefined,
  port: number | undefined,
  onMessage: (socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo) => void,
): Promise<RunningUdp> {
  const address = host ?? '127.0.0.1';
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => onMessage(socket, msg, rinfo));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port: port ?? 0 }, () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve({
        port: socket.address().port,
        close: () => new Promise<void>((r) => socket.close(() => r())),
      });
    });
  });
}

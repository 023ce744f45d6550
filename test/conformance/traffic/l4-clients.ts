/**
 * Clients for the TCP echo exchange (TRANSPORT-KINDS.md 6.2, 7.1), over a
 * plain or a TLS connection, and for one UDP datagram and its reply (6.4,
 * 7.2, 7.3). Every wait is bounded; the sockets are closed on every path.
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';

export const TCP_WELCOME = 'Gateway API Test TCP Server';

/** What came back in a TCP echo exchange, line by line (without the newline). */
export interface TcpExchangeResult {
  welcome: string;
  pong?: string;
  isTls?: string;
  /** The raw `TEST` reply line. */
  test?: string;
}

/**
 * Runs `exchange` (`full`, `test`, `connect`) on an open connection and
 * closes it. Rejects when the connection fails or ends first, or after
 * `timeoutMs`, with what had come back so far in the message.
 */
export function tcpExchange(socket: Duplex, exchange: string, timeoutMs: number): Promise<TcpExchangeResult> {
  return new Promise((resolve, reject) => {
    if (exchange === 'connect') {
      socket.destroy();
      resolve({ welcome: '' });
      return;
    }
    const steps: { send?: string; field: keyof TcpExchangeResult }[] =
      exchange === 'full'
        ? [
            { field: 'welcome' },
            { send: 'PING', field: 'pong' },
            { send: 'IS_TLS', field: 'isTls' },
            { send: 'TEST', field: 'test' },
          ]
        : [{ field: 'welcome' }, { send: 'TEST', field: 'test' }];
    const got: Partial<TcpExchangeResult> = {};
    let step = 0;
    let pending = '';
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(got as TcpExchangeResult);
    };
    const soFar = (): string =>
      step ? ` after ${steps[step - 1].field} ${JSON.stringify(got[steps[step - 1].field])}` : '';
    const timer = setTimeout(
      () => finish(new Error(`TCP echo exchange not complete within ${timeoutMs} ms${soFar()}`)),
      timeoutMs,
    );
    socket.on('error', (err) => finish(new Error(`${err.message}${soFar()}`)));
    socket.on('close', () => finish(new Error(`connection closed${soFar()}`)));
    socket.on('end', () => finish(new Error(`connection ended by the peer${soFar()}`)));
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (let nl = pending.indexOf('\n'); nl >= 0 && !settled; nl = pending.indexOf('\n')) {
        got[steps[step].field] = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (++step >= steps.length) return finish();
        const send = steps[step].send;
        if (send) socket.write(`${send}\n`);
      }
      if (pending.length > 1 << 20) finish(new Error('TCP echo line too long'));
    });
  });
}

/**
 * Sends one datagram from a fresh local socket to `address:port` and
 * resolves with the first datagram that comes back (cut at `readBytes`,
 * like upstream's read buffer), or undefined after `timeoutMs`.
 */
export function udpRoundTrip(
  address: string,
  port: number,
  payload: Buffer,
  timeoutMs: number,
  readBytes = 4096,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    let settled = false;
    const done = (reply: Buffer | undefined, err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('message', (msg) => done(msg.subarray(0, readBytes)));
    socket.on('error', (err) => done(undefined, err));
    socket.send(payload, port, address, (err) => {
      if (err) done(undefined, err);
    });
  });
}

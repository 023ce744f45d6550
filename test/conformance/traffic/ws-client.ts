/**
 * The `websocket` check's client (TRANSPORT-KINDS.md 6.5): an HTTP/1.1
 * Upgrade on a fresh connection, then one frame per message, each of
 * which must come back as the next data frame.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { acceptKey, encodeFrame, FrameParser, OP, type Frame } from '../../support/echo/ws-frames.ts';
import { hostPort, type Endpoint } from './http-client.ts';
import type { WebSocketMessage } from './types.ts';

export interface WsExchange {
  path: string;
  host?: string;
  origin?: string;
  subprotocol?: string;
  messages: WebSocketMessage[];
  comparePayloadOnly: boolean;
  timeoutMs: number;
}

function payloadOf(m: WebSocketMessage): { opcode: number; data: Buffer } {
  if (m.binaryBase64 !== undefined) return { opcode: OP.binary, data: Buffer.from(m.binaryBase64, 'base64') };
  return { opcode: OP.text, data: Buffer.from(m.text ?? '', 'utf8') };
}

/** Resolves with undefined when every message came back, or the first mismatch. */
export function wsExchange(ep: Endpoint, x: WsExchange): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: ep.address, port: ep.port });
    let settled = false;
    const done = (result: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(`no complete exchange within ${x.timeoutMs} ms`), x.timeoutMs);
    const key = randomBytes(16).toString('base64');
    socket.on('error', (err) => done(`connection: ${err.message}`));
    socket.on('close', () => done('connection closed before every message came back'));
    socket.on('connect', () => {
      const lines = [
        `GET ${x.path} HTTP/1.1`,
        `Host: ${x.host ?? hostPort(ep)}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        ...(x.origin !== undefined ? [`Origin: ${x.origin}`] : []),
        ...(x.subprotocol ? [`Sec-WebSocket-Protocol: ${x.subprotocol}`] : []),
      ];
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    let head = Buffer.alloc(0);
    let upgraded = false;
    const parser = new FrameParser();
    let next = 0;
    const sendNext = (): void => {
      if (next >= x.messages.length) {
        socket.write(encodeFrame(OP.close, Buffer.from([0x03, 0xe8]), { mask: true }));
        return done(undefined);
      }
      const p = payloadOf(x.messages[next]);
      socket.write(encodeFrame(p.opcode, p.data, { mask: true }));
    };
    const onFrame = (f: Frame): void => {
      if (f.opcode === OP.ping) return void socket.write(encodeFrame(OP.pong, f.payload, { mask: true }));
      if (f.opcode === OP.pong) return;
      if (f.opcode === OP.close)
        return done(`server closed the WebSocket after ${next} of ${x.messages.length} messages`);
      const want = payloadOf(x.messages[next]);
      if (!x.comparePayloadOnly && f.opcode !== want.opcode)
        return done(`message ${next}: frame type ${f.opcode}, want ${want.opcode}`);
      if (!f.payload.equals(want.data))
        return done(
          `message ${next}: got ${JSON.stringify(f.payload.toString('utf8'))}, want ${JSON.stringify(want.data.toString('utf8'))}`,
        );
      next++;
      sendNext();
    };
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) {
        for (const f of parser.push(chunk)) if (!settled) onFrame(f);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const text = head.subarray(0, end).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      if (status !== '101') return done(`handshake answered ${status ?? '?'}: ${text.split('\r\n')[0]}`);
      const accept = /^sec-websocket-accept:\s*(\S+)/im.exec(text)?.[1];
      if (accept !== acceptKey(key)) return done(`bad Sec-WebSocket-Accept ${accept ?? '(none)'}`);
      upgraded = true;
      const rest = head.subarray(end + 4);
      sendNext();
      if (rest.length) for (const f of parser.push(rest)) if (!settled) onFrame(f);
    });
  });
}

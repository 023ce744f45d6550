/**
 * The messages of ../../../../shared/conformance/grpc-echo.proto
 * (GRPC-ECHO.md "Messages"), encoded and decoded by hand.
 */
import { ProtoReader, ProtoWriter } from '../../../src/demo/protobuf.ts';

export const ECHO_SERVICE = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';

export interface EchoContext {
  namespace: string;
  ingress: string;
  serviceName: string;
  pod: string;
}

export interface TlsAssertions {
  version: string;
  negotiatedProtocol: string;
  serverName: string;
  cipherSuite: string;
  peerCertificates: string[];
}

export interface EchoAssertions {
  fullyQualifiedMethod: string;
  /** One entry per metadata value, in no particular order. */
  headers: Array<{ key: string; value: string }>;
  authority: string;
  context?: EchoContext;
  tlsAssertions?: TlsAssertions;
}

export interface EchoResponse {
  assertions?: EchoAssertions;
}

export function encodeEchoResponse(r: EchoResponse): Buffer {
  const w = new ProtoWriter();
  const a = r.assertions;
  if (a !== undefined) {
    const aw = new ProtoWriter().string(1, a.fullyQualifiedMethod);
    for (const h of a.headers) aw.message(2, new ProtoWriter().string(1, h.key).string(2, h.value));
    aw.string(3, a.authority);
    if (a.context !== undefined) {
      const c = a.context;
      aw.message(
        4,
        new ProtoWriter().string(1, c.namespace).string(2, c.ingress).string(3, c.serviceName).string(4, c.pod),
      );
    }
    if (a.tlsAssertions !== undefined) {
      const t = a.tlsAssertions;
      const tw = new ProtoWriter()
        .string(1, t.version)
        .string(2, t.negotiatedProtocol)
        .string(3, t.serverName)
        .string(4, t.cipherSuite);
      for (const pem of t.peerCertificates) tw.string(5, pem);
      aw.message(5, tw);
    }
    w.message(1, aw);
  }
  return w.finish();
}

export function decodeEchoResponse(buf: Buffer): EchoResponse {
  const a = ProtoReader.of(buf).message(1);
  if (a === undefined) return {};
  const c = a.message(4);
  const t = a.message(5);
  return {
    assertions: {
      fullyQualifiedMethod: a.string(1),
      headers: a.messages(2).map((h) => ({ key: h.string(1), value: h.string(2) })),
      authority: a.string(3),
      ...(c
        ? { context: { namespace: c.string(1), ingress: c.string(2), serviceName: c.string(3), pod: c.string(4) } }
        : {}),
      ...(t
        ? {
            tlsAssertions: {
              version: t.string(1),
              negotiatedProtocol: t.string(2),
              serverName: t.string(3),
              cipherSuite: t.string(4),
              peerCertificates: t.strings(5),
            },
          }
        : {}),
    },
  };
}

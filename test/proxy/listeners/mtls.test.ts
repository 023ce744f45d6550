import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IR, ListenerIR } from '../../../src/ir/types.ts';
import { backend, endpointsOf, gateway, listener, route, startOrigin, type Origin } from '../helpers.ts';
import {
  CertKit,
  certificateIR,
  tlsRefused,
  tlsRequest,
  type Pem,
  type TlsReply,
  type TlsRequest,
} from '../tls-kit.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createDataPlane, type DataPlane } from '../../../src/proxy/index.ts';

/**
 * Frontend client certificate validation (GatewayFrontendClientCertificateValidation*):
 * two ports, each with its own CA, in AllowValidOnly and AllowInsecureFallback.
 */
describe('client certificate validation (mTLS)', () => {
  const kit = new CertKit();
  let origin: Origin;
  let dp: DataPlane;
  let server: Pem;
  let caA: Pem;
  let caB: Pem;
  let clientA: Pem;
  let clientB: Pem;
  let expiredA: Pem;
  let selfSigned: Pem;
  const ports: Record<string, number> = {};

  function httpsListener(
    name: string,
    hostname: string | undefined,
    ca: Pem | null,
    mode: 'AllowValidOnly' | 'AllowInsecureFallback',
  ): ListenerIR {
    return listener(name, [route({ backends: [backend('o', endpointsOf(origin.port))] })], {
      protocol: 'HTTPS',
      port: 0,
      hostname,
      tls: {
        mode: 'Terminate',
        certificates: [certificateIR(server)],
        ...(ca === null ? {} : { clientValidation: { caPems: [ca.cert], mode } }),
      },
    });
  }

  function ir(mode: 'AllowValidOnly' | 'AllowInsecureFallback', validate = true): IR {
    // Two gateways on separate addresses stand for the two ports of the conformance case.
    return {
      gateways: [
        gateway([httpsListener('https', undefined, validate ? caA : null, mode)], {
          name: 'a',
          addresses: ['127.0.0.1'],
        }),
        gateway([httpsListener('https-with-hostname', 'second-example.org', validate ? caB : null, mode)], {
          name: 'b',
          addresses: ['127.0.0.2'],
        }),
      ],
    };
  }

  before(async () => {
    server = kit.leaf(null, { cn: 'server', dns: ['*.org'] });
    caA = kit.ca('ca-a');
    caB = kit.ca('ca-b');
    clientA = kit.leaf(caA, { cn: 'client-a', usage: 'client' });
    clientB = kit.leaf(caB, { cn: 'client-b', usage: 'client' });
    expiredA = kit.leaf(caA, { cn: 'expired-a', usage: 'client', days: -1 });
    selfSigned = kit.leaf(null, { cn: 'self', usage: 'client' });
    origin = await startOrigin('o');
    dp = createDataPlane({ portOffset: 0, log: createLogger('silent') });
    const r = await dp.apply(ir('AllowValidOnly'));
    assert.deepEqual(r.errors, []);
    for (const b of r.bound) ports[b.address] = b.boundPort;
  });
  after(async () => {
    await dp.close(200);
    await origin.close();
    kit.cleanup();
  });

  /** Where to connect, with which SNI and client certificate. */
  interface Dial {
    host: string;
    servername: string;
    cert?: string;
    key?: string;
  }
  const withCert = (client: Pem | null) => (client ? { cert: client.cert, key: client.key } : {});
  const onA = (client: Pem | null): Dial => ({ host: '127.0.0.1', servername: 'example.org', ...withCert(client) });
  const onB = (client: Pem | null): Dial => ({
    host: '127.0.0.2',
    servername: 'second-example.org',
    ...withCert(client),
  });

  async function get(port: number, o: Dial): Promise<number> {
    const { host, ...rest } = o;
    return (await tlsRequestTo(host, port, rest)).status;
  }

  test("AllowValidOnly: a certificate from the port's CA is accepted; none, another CA's, an expired or a self-signed one fail the handshake", async () => {
    assert.equal(await get(ports['127.0.0.1'], onA(clientA)), 200);
    assert.equal(await get(ports['127.0.0.2'], onB(clientB)), 200);
    for (const [what, o, port] of [
      ['no certificate', onA(null), ports['127.0.0.1']],
      ['other CA', onA(clientB), ports['127.0.0.1']],
      ['expired', onA(expiredA), ports['127.0.0.1']],
      ['self-signed', onA(selfSigned), ports['127.0.0.1']],
      ['other CA on the per-port listener', onB(clientA), ports['127.0.0.2']],
    ] as Array<[string, Dial, number]>) {
      const { host, ...rest } = o;
      assert.ok(await refusedTo(host, port, rest), what);
    }
  });

  test('AllowInsecureFallback: matching, non-matching and missing certificates all get through', async () => {
    await dp.apply(ir('AllowInsecureFallback'));
    for (const c of [clientA, clientB, null]) assert.equal(await get(ports['127.0.0.1'], onA(c)), 200);
    for (const c of [clientB, clientA, null]) assert.equal(await get(ports['127.0.0.2'], onB(c)), 200);
  });

  test('validation removed or added by a new IR applies to new handshakes', async () => {
    await dp.apply(ir('AllowValidOnly', false));
    assert.equal(await get(ports['127.0.0.1'], onA(null)), 200);
    await dp.apply(ir('AllowValidOnly'));
    const { host, ...rest } = onA(null);
    assert.ok(await refusedTo(host, ports['127.0.0.1'], rest));
    assert.equal(await get(ports['127.0.0.1'], onA(clientA)), 200);
  });

  test('listeners of one port with different validation: checked per SNI, and no SNI cannot skip it', async () => {
    const strict = httpsListener('strict', 'strict.example.org', caA, 'AllowValidOnly');
    const open = httpsListener('open', undefined, null, 'AllowValidOnly');
    const r = await dp.apply({ gateways: [gateway([open, strict], { name: 'mixed', addresses: ['127.0.0.3'] })] });
    const port = r.bound[0].boundPort;
    assert.ok(await refusedTo('127.0.0.3', port, { servername: 'strict.example.org' }));
    assert.equal(
      (
        await tlsRequestTo('127.0.0.3', port, {
          servername: 'strict.example.org',
          cert: clientA.cert,
          key: clientA.key,
        })
      ).status,
      200,
    );
    assert.equal((await tlsRequestTo('127.0.0.3', port, { servername: 'open.example.org' })).status, 200);
    // Without SNI the connection counts as made for the open listener: the strict host gets 421.
    assert.equal((await tlsRequestTo('127.0.0.3', port, { servername: '', host: 'strict.example.org' })).status, 421);
    await dp.apply(ir('AllowValidOnly'));
  });
});

function tlsRequestTo(address: string, port: number, r: TlsRequest): Promise<TlsReply> {
  return tlsRequest(port, { ...r, address });
}

function refusedTo(address: string, port: number, r: TlsRequest): Promise<boolean> {
  return tlsRefused(port, { ...r, address });
}

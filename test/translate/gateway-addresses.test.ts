import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AddressPool, formatIP, parseIP } from '../../src/translate/addresses.ts';
import { CLASS, docs, expectCondition, gatewayYaml, run, type StatusView } from './fixtures/gateway-fixtures.ts';
import { loadObjects } from '../../src/providers/file/loader.ts';
import { formatProblem } from '../../src/providers/snapshot.ts';

const HTTP = [{ name: 'http', protocol: 'HTTP', port: 8080 }];
const gw = (name: string, addresses?: unknown[], namespace = 'infra') =>
  gatewayYaml(name, { listeners: HTTP, ...(addresses ? { addresses } : {}) }, namespace);
const values = (s: StatusView) => (s.addresses ?? []).map((a) => a.value);

describe('IP helpers', () => {
  test('parse and format IPv4 and IPv6 canonically', () => {
    for (const [text, canonical] of [
      ['10.1.2.3', '10.1.2.3'],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::1:0:0:0:1', 'fe80:0:0:1::1'],
      ['::ffff:127.0.0.1', '::ffff:7f00:1'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ]) {
      assert.equal(formatIP(parseIP(text)!), canonical, text);
    }
    assert.equal(parseIP('999.1.1.1'), undefined);
    assert.equal(parseIP('example.com'), undefined);
  });

  test('pools skip network/broadcast (IPv4) and the anycast address (IPv6) except for tiny prefixes', () => {
    const all = (cidr: string) => {
      const pool = new AddressPool(cidr);
      const out: string[] = [];
      for (let a = pool.take(new Set()); a !== undefined; a = pool.take(new Set())) out.push(a);
      return out;
    };
    assert.deepEqual(all('10.0.0.0/30'), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(all('10.0.0.7/31'), ['10.0.0.6', '10.0.0.7']);
    assert.deepEqual(all('10.0.0.9/32'), ['10.0.0.9']);
    assert.deepEqual(all('fd00::/126'), ['fd00::1', 'fd00::2', 'fd00::3']);
    assert.deepEqual(all('fd00::/127'), ['fd00::', 'fd00::1']);
    const pool = new AddressPool('127.0.1.0/24');
    assert.equal(pool.contains(parseIP('127.0.1.200')!), true);
    assert.equal(pool.contains(parseIP('127.0.2.1')!), false);
    assert.equal(pool.take(new Set(['127.0.1.1'])), '127.0.1.2');
    for (const bad of ['127.0.1.0', '127.0.1.0/33', 'x/24', '127.0.1.0/24/1', 'fd00::/129']) {
      assert.throws(() => new AddressPool(bad), /not a valid CIDR/, bad);
    }
  });
});

describe('assigned addresses', () => {
  test('Gateways without addresses get pool addresses in namespace/name order; explicit pool addresses are reserved', () => {
    const r = run(
      docs(CLASS, gw('b'), gw('a'), gw('c', [], 'alpha'), gw('static', [{ type: 'IPAddress', value: '127.0.1.2' }])),
      {
        addressPool: '127.0.1.0/24',
      },
    );
    assert.deepEqual(values(r.gateway('alpha', 'c')), ['127.0.1.1']);
    assert.deepEqual(values(r.gateway('infra', 'a')), ['127.0.1.3']);
    assert.deepEqual(values(r.gateway('infra', 'b')), ['127.0.1.4']);
    assert.deepEqual(r.gateway('infra', 'static').addresses, [{ type: 'IPAddress', value: '127.0.1.2' }]);
    assert.deepEqual(r.irGateway('infra', 'a')!.addresses, ['127.0.1.3']);
    for (const [ns, name] of [
      ['alpha', 'c'],
      ['infra', 'a'],
      ['infra', 'static'],
    ]) {
      expectCondition(r.gateway(ns, name).conditions, 'Programmed', 'True', 'Programmed');
    }
  });

  test('without a pool every Gateway gets the default address', () => {
    const r = run(docs(CLASS, gw('a'), gw('b')), { defaultAddress: '127.0.0.1' });
    assert.deepEqual(values(r.gateway('infra', 'a')), ['127.0.0.1']);
    assert.deepEqual(values(r.gateway('infra', 'b')), ['127.0.0.1']);
  });

  test('an IPAddress entry without a value is assigned one (pool, IPv6 pool, or default)', () => {
    const yaml = docs(CLASS, gw('gw', [{ type: 'IPAddress' }]));
    const pooled = run(yaml, { addressPool: '10.9.0.0/16' }).gateway('infra', 'gw');
    assert.deepEqual(pooled.addresses, [{ type: 'IPAddress', value: '10.9.0.1' }]);
    expectCondition(pooled.conditions, 'Accepted', 'True', 'Accepted');
    expectCondition(pooled.conditions, 'Programmed', 'True', 'Programmed');
    assert.deepEqual(values(run(yaml, { addressPool: 'fd00:1::/64' }).gateway('infra', 'gw')), ['fd00:1::1']);
    assert.deepEqual(values(run(yaml).gateway('infra', 'gw')), ['0.0.0.0']);
  });

  test('an exhausted or malformed pool is AddressNotAssigned', () => {
    const exhausted = run(docs(CLASS, gw('a'), gw('b')), { addressPool: '127.0.1.5/32' });
    assert.deepEqual(values(exhausted.gateway('infra', 'a')), ['127.0.1.5']);
    const b = exhausted.gateway('infra', 'b');
    expectCondition(b.conditions, 'Accepted', 'True', 'Accepted');
    expectCondition(b.conditions, 'Programmed', 'False', 'AddressNotAssigned');
    assert.equal(b.addresses, undefined);
    expectCondition(exhausted.listener('infra', 'b', 'http').conditions, 'Programmed', 'False', 'Pending');
    assert.equal(exhausted.irGateway('infra', 'b'), undefined);
    const malformed = run(docs(CLASS, gw('a')), { addressPool: 'nonsense' }).gateway('infra', 'a');
    const c = expectCondition(malformed.conditions, 'Programmed', 'False', 'AddressNotAssigned');
    assert.match(c.message, /not a valid CIDR/);
  });
});

describe('static addresses (GatewayStaticAddresses)', () => {
  const pool = { addressPool: '127.0.1.0/24' };

  test('an unsupported address type makes the Gateway Accepted False / UnsupportedAddress', () => {
    const r = run(
      docs(
        CLASS,
        gw('fake', [
          { type: 'test/fake-invalid-type', value: 'fake address teehee!' },
          { type: 'IPAddress', value: '203.0.113.9' },
          { type: 'IPAddress', value: '127.0.1.9' },
        ]),
        gw('hostname', [{ type: 'Hostname', value: 'gateway.example.com' }]),
      ),
      pool,
    );
    for (const name of ['fake', 'hostname']) {
      const g = r.gateway('infra', name);
      expectCondition(g.conditions, 'Accepted', 'False', 'UnsupportedAddress');
      expectCondition(g.conditions, 'Programmed', 'False', 'Invalid');
      assert.equal(g.addresses, undefined);
      assert.equal(r.irGateway('infra', name), undefined);
    }
  });

  test('an address Sluice cannot use is AddressNotUsable and left out of the status', () => {
    const g = run(
      docs(
        CLASS,
        gw('gw', [
          { type: 'IPAddress', value: '203.0.113.9' },
          { type: 'IPAddress', value: '127.0.1.9' },
        ]),
      ),
      pool,
    );
    const s = g.gateway('infra', 'gw');
    expectCondition(s.conditions, 'Accepted', 'True', 'Accepted');
    const c = expectCondition(s.conditions, 'Programmed', 'False', 'AddressNotUsable');
    assert.match(c.message, /203\.0\.113\.9/);
    assert.deepEqual(s.addresses, [{ type: 'IPAddress', value: '127.0.1.9' }]);
    assert.deepEqual(g.irGateway('infra', 'gw')!.addresses, ['127.0.1.9']);
  });

  test('usable addresses: in the pool, loopback, unspecified (an untyped entry means IPAddress)', () => {
    const r = run(
      docs(
        CLASS,
        gw('gw', [
          { value: '127.0.1.9' },
          { type: 'IPAddress', value: '127.0.0.5' },
          { type: 'IPAddress', value: '::1' },
          { value: '0.0.0.0' },
        ]),
      ),
      pool,
    );
    const s = r.gateway('infra', 'gw');
    expectCondition(s.conditions, 'Programmed', 'True', 'Programmed');
    assert.deepEqual(values(s), ['127.0.1.9', '127.0.0.5', '::1', '0.0.0.0']);
    assert.deepEqual(
      r.listener('infra', 'gw', 'http').conditions.map((c) => c.status),
      ['True', 'True', 'True'],
    );
  });

  test('a malformed IPAddress value is rejected at admission, as the API server does', () => {
    const loaded = loadObjects([
      { text: docs(CLASS, gw('gw', [{ type: 'IPAddress', value: '300.1.1.1' }])), file: 'g.yaml' },
    ]);
    assert.deepEqual(loaded.problems.map(formatProblem), [
      'g.yaml#1 Gateway infra/gw: spec.addresses[0]: Invalid value: "object": must match exactly one schema in oneOf',
    ]);
    assert.equal(loaded.snapshot.gateways.length, 0);
  });
});

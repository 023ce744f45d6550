import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  V2_SIGNATURE,
  addressesOf,
  decodeProxyHeader,
  encodeProxyHeader,
  encodeV1,
  encodeV2,
  ipBytes,
  ipText,
  type ProxyAddresses,
} from '../../../src/proxy/l4/proxy-protocol.ts';

const V4: ProxyAddresses = {
  family: 'IPv4',
  source: { address: '192.0.2.10', port: 51000 },
  destination: { address: '198.51.100.1', port: 443 },
};
const V6: ProxyAddresses = {
  family: 'IPv6',
  source: { address: '2001:db8::10', port: 51000 },
  destination: { address: '2001:db8:1::1', port: 8443 },
};

describe('PROXY protocol v1', () => {
  test('encodes the spec examples', () => {
    assert.equal(encodeV1(V4).toString(), 'PROXY TCP4 192.0.2.10 198.51.100.1 51000 443\r\n');
    assert.equal(encodeV1(V6).toString(), 'PROXY TCP6 2001:db8::10 2001:db8:1::1 51000 8443\r\n');
    assert.equal(encodeV1(undefined).toString(), 'PROXY UNKNOWN\r\n');
  });

  test('decodes what it encodes, and says how many bytes the header took', () => {
    for (const a of [V4, V6]) {
      const bytes = Buffer.concat([encodeV1(a), Buffer.from('payload')]);
      const r = decodeProxyHeader(bytes);
      assert.equal(r.status, 'ok');
      if (r.status !== 'ok') return;
      assert.deepEqual(r.header.addresses, a);
      assert.equal(r.header.version, 1);
      assert.equal(bytes.subarray(r.length).toString(), 'payload');
    }
    const unknown = decodeProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'));
    assert.equal(unknown.status === 'ok' && unknown.header.addresses, undefined);
  });

  test('incomplete until the CRLF, invalid when malformed', () => {
    const line = encodeV1(V4);
    for (let n = 0; n < line.length; n++) {
      assert.equal(decodeProxyHeader(line.subarray(0, n)).status, 'incomplete', `prefix ${n}`);
    }
    for (const bad of [
      'PROXY TCP4 192.0.2.10 198.51.100.1 51000\r\n',
      'PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n',
      'PROXY TCP4 192.0.2.10 198.51.100.1 70000 443\r\n',
      'PROXY TCP4 192.0.2.10 198.51.100.1 0443 443\r\n',
      'PROXY UDP4 192.0.2.10 198.51.100.1 1 2\r\n',
      'PROXY TCP4 192.0.2.10  198.51.100.1 1 2\r\n',
      'GET / HTTP/1.1\r\n',
    ]) {
      assert.equal(decodeProxyHeader(Buffer.from(bad)).status, 'invalid', bad);
    }
    assert.equal(decodeProxyHeader(Buffer.from(`PROXY ${'x'.repeat(120)}`)).status, 'invalid');
  });
});

describe('PROXY protocol v2', () => {
  test('encodes IPv4 byte for byte', () => {
    const b = encodeV2({ addresses: V4 });
    assert.deepEqual(b.subarray(0, 12), V2_SIGNATURE);
    assert.equal(b[12], 0x21); // version 2, PROXY
    assert.equal(b[13], 0x11); // AF_INET, STREAM
    assert.equal(b.readUInt16BE(14), 12);
    assert.deepEqual([...b.subarray(16, 24)], [192, 0, 2, 10, 198, 51, 100, 1]);
    assert.equal(b.readUInt16BE(24), 51000);
    assert.equal(b.readUInt16BE(26), 443);
    assert.equal(b.length, 28);
  });

  test('round trips IPv4, IPv6, DGRAM, TLVs and LOCAL', () => {
    const tlvs = [
      { type: 0x02, value: Buffer.from('abc.example.com') },
      { type: 0x20, value: Buffer.from([1, 0, 0, 0, 0]) },
    ];
    const v6 = decodeProxyHeader(encodeV2({ addresses: V6, tlvs, transport: 'DGRAM' }));
    assert.equal(v6.status, 'ok');
    if (v6.status === 'ok') {
      assert.deepEqual(v6.header.addresses, V6);
      assert.equal(v6.header.transport, 'DGRAM');
      assert.deepEqual(v6.header.tlvs, tlvs);
      assert.equal(v6.length, 16 + 36 + 18 + 8);
    }
    const local = decodeProxyHeader(encodeV2({ command: 'LOCAL' }));
    assert.equal(local.status, 'ok');
    if (local.status === 'ok') {
      assert.equal(local.header.command, 'LOCAL');
      assert.equal(local.header.addresses, undefined);
      assert.equal(local.length, 16);
    }
  });

  test('incomplete for every prefix, then ok with the bytes that follow left alone', () => {
    const h = encodeV2({ addresses: V6 });
    for (let n = 0; n < h.length; n++) assert.equal(decodeProxyHeader(h.subarray(0, n)).status, 'incomplete');
    const r = decodeProxyHeader(Buffer.concat([h, Buffer.from([0x16, 3, 1])]));
    assert.equal(r.status === 'ok' && r.length, h.length);
  });

  test('invalid: bad version, command, family, truncated TLV, oversized', () => {
    const good = encodeV2({ addresses: V4 });
    const patch = (at: number, v: number): Buffer => {
      const b = Buffer.from(good);
      b[at] = v;
      return b;
    };
    assert.equal(decodeProxyHeader(patch(12, 0x11)).status, 'invalid');
    assert.equal(decodeProxyHeader(patch(12, 0x23)).status, 'invalid');
    assert.equal(decodeProxyHeader(patch(13, 0x41)).status, 'invalid');
    const short = Buffer.from(good);
    short.writeUInt16BE(8, 14); // shorter than an IPv4 address block
    assert.equal(decodeProxyHeader(short.subarray(0, 24)).status, 'invalid');
    const tlv = Buffer.concat([good, Buffer.from([0x02, 0x00, 0x09, 0x41])]);
    tlv.writeUInt16BE(12 + 4, 14);
    assert.equal(decodeProxyHeader(tlv).status, 'invalid');
    const huge = Buffer.from(good);
    huge.writeUInt16BE(60000, 14);
    assert.equal(decodeProxyHeader(huge).status, 'invalid');
  });
});

describe('addresses', () => {
  test('IPv6 text and bytes round trip (RFC 5952 form)', () => {
    for (const [text, canon] of [
      ['::1', '::1'],
      ['::', '::'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['fe80::1%eth0', 'fe80::1'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ]) {
      assert.equal(ipText(ipBytes(text, 'IPv6')), canon, text);
    }
  });

  test('both ends in one family: mapped IPv4 unwrapped, a lone IPv4 mapped', () => {
    const both = addressesOf({ address: '::ffff:10.0.0.1', port: 1 }, { address: '10.0.0.2', port: 2 });
    assert.equal(both?.family, 'IPv4');
    assert.equal(both?.source.address, '10.0.0.1');
    const mixed = addressesOf({ address: '10.0.0.1', port: 1 }, { address: '::1', port: 2 });
    assert.equal(mixed?.family, 'IPv6');
    assert.equal(mixed?.source.address, '::ffff:10.0.0.1');
    assert.equal(addressesOf({ address: '/tmp/sock', port: 0 }, { address: '::1', port: 2 }), undefined);
    assert.equal(
      encodeProxyHeader('V1', { address: '/tmp/sock', port: 0 }, { address: '::1', port: 2 }).toString(),
      'PROXY UNKNOWN\r\n',
    );
  });
});

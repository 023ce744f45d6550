import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotFromYaml } from '../support/snapshot.ts';
import { defaultOptions, TranslationContext } from '../../src/translate/context.ts';
import { translateGatewayClasses } from '../../src/translate/gatewayclass.ts';
import { finalizeGateways, translateGateways } from '../../src/translate/gateway.ts';
import { CLASS, docs, expectCondition, gatewayYaml, pem, run, tlsSecret } from './fixtures/gateway-fixtures.ts';

const HTTP_KINDS = [
  { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' },
  { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' },
];

function gw(listeners: unknown[], extra: Record<string, unknown> = {}): string {
  return docs(CLASS, tlsSecret('infra', 'cert'), gatewayYaml('gw', { listeners, ...extra }));
}

function contexts(yaml: string) {
  const ctx = new TranslationContext(snapshotFromYaml(yaml), defaultOptions({ now: '2026-01-01T00:00:00Z' }));
  const gateways = translateGateways(ctx, translateGatewayClasses(ctx));
  return { ctx, gateways };
}

const https = (name: string, hostname: string | undefined, refs: unknown[], port = 443) => ({
  name,
  protocol: 'HTTPS',
  port,
  ...(hostname ? { hostname } : {}),
  tls: { mode: 'Terminate', certificateRefs: refs },
});

describe('protocols and supported kinds', () => {
  test('an unsupported protocol is not Accepted and supports no kinds; alone it fails the Gateway', () => {
    const r = run(gw([{ name: 'invalid', protocol: 'INVALID', port: 1111 }]));
    const l = r.listener('infra', 'gw', 'invalid');
    expectCondition(l.conditions, 'Accepted', 'False', 'UnsupportedProtocol');
    expectCondition(l.conditions, 'Programmed', 'False', 'Invalid');
    assert.deepEqual(l.supportedKinds, []);
    assert.equal(l.attachedRoutes, 0);
    expectCondition(r.gateway('infra', 'gw').conditions, 'Accepted', 'False', 'ListenersNotValid');
    expectCondition(r.gateway('infra', 'gw').conditions, 'Programmed', 'False', 'Invalid');
    assert.equal(r.result.ir.gateways.length, 0);
  });

  test('next to a valid listener the Gateway stays Accepted with reason ListenersNotValid', () => {
    const r = run(
      gw([
        { name: 'http', protocol: 'HTTP', port: 80 },
        { name: 'invalid', protocol: 'example.com/SCTP', port: 1111 },
      ]),
    );
    const g = r.gateway('infra', 'gw');
    const c = expectCondition(g.conditions, 'Accepted', 'True', 'ListenersNotValid');
    assert.match(c.message, /invalid \(UnsupportedProtocol\)/);
    expectCondition(g.conditions, 'Programmed', 'True', 'Programmed');
    const http = r.listener('infra', 'gw', 'http');
    expectCondition(http.conditions, 'Accepted', 'True', 'Accepted');
    expectCondition(http.conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
    assert.deepEqual(http.supportedKinds, HTTP_KINDS);
    assert.deepEqual(
      g.listeners?.map((l) => l.name),
      ['http', 'invalid'],
    );
  });

  test('supported kinds follow the protocol and TLS mode', () => {
    const r = run(
      gw([
        { name: 'http', protocol: 'HTTP', port: 80 },
        https('https', undefined, [{ name: 'cert' }]),
        { name: 'pass', protocol: 'TLS', port: 8443, tls: { mode: 'Passthrough' } },
        { name: 'term', protocol: 'TLS', port: 8444, tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert' }] } },
        { name: 'tcp', protocol: 'TCP', port: 9000 },
        { name: 'udp', protocol: 'UDP', port: 9000 },
      ]),
    );
    const kinds = (name: string) => r.listener('infra', 'gw', name).supportedKinds.map((k) => k.kind);
    assert.deepEqual(kinds('http'), ['HTTPRoute', 'GRPCRoute']);
    assert.deepEqual(kinds('https'), ['HTTPRoute', 'GRPCRoute']);
    assert.deepEqual(kinds('pass'), ['TLSRoute']);
    assert.deepEqual(kinds('term'), ['TLSRoute', 'TCPRoute']);
    assert.deepEqual(kinds('tcp'), ['TCPRoute']);
    assert.deepEqual(kinds('udp'), ['UDPRoute']);
    for (const name of ['http', 'https', 'pass', 'term', 'tcp', 'udp']) {
      expectCondition(r.listener('infra', 'gw', name).conditions, 'Programmed', 'True', 'Programmed');
    }
  });

  test('allowedRoutes.kinds: unknown kinds are InvalidRouteKinds, valid ones stay supported', () => {
    const r = run(
      gw([
        { name: 'only-invalid', protocol: 'HTTP', port: 80, allowedRoutes: { kinds: [{ kind: 'InvalidRoute' }] } },
        {
          name: 'mixed',
          protocol: 'HTTP',
          port: 81,
          allowedRoutes: { kinds: [{ kind: 'InvalidRoute' }, { kind: 'HTTPRoute' }, { group: '', kind: 'GRPCRoute' }] },
        },
        {
          name: 'pass',
          protocol: 'TLS',
          port: 443,
          tls: { mode: 'Passthrough' },
          allowedRoutes: { kinds: [{ kind: 'TCPRoute' }, { kind: 'TLSRoute' }] },
        },
      ]),
    );
    const only = r.listener('infra', 'gw', 'only-invalid');
    assert.deepEqual(only.supportedKinds, []);
    expectCondition(only.conditions, 'ResolvedRefs', 'False', 'InvalidRouteKinds');
    expectCondition(only.conditions, 'Accepted', 'True', 'Accepted');
    const mixed = r.listener('infra', 'gw', 'mixed');
    assert.deepEqual(mixed.supportedKinds, [HTTP_KINDS[0]]);
    const c = expectCondition(mixed.conditions, 'ResolvedRefs', 'False', 'InvalidRouteKinds');
    assert.match(c.message, /InvalidRoute, core\/GRPCRoute/);
    const pass = r.listener('infra', 'gw', 'pass');
    assert.deepEqual(pass.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute' }]);
    expectCondition(pass.conditions, 'ResolvedRefs', 'False', 'InvalidRouteKinds');
    expectCondition(r.gateway('infra', 'gw').conditions, 'ResolvedRefs', 'False', 'ListenersNotResolved');
  });
});

describe('TLS settings', () => {
  test('a valid certificate is resolved and carried into the IR', () => {
    const r = run(gw([https('https', 'www.example.com', [{ group: '', kind: 'Secret', name: 'cert' }])]));
    const l = r.listener('infra', 'gw', 'https');
    expectCondition(l.conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
    expectCondition(l.conditions, 'Programmed', 'True', 'Programmed');
    const ir = r.irGateway('infra', 'gw')!.listeners[0];
    assert.equal(ir.name, 'infra/gw/https');
    assert.equal(ir.hostname, 'www.example.com');
    assert.deepEqual(ir.tls, {
      mode: 'Terminate',
      certificates: [{ secret: 'infra/cert', certPem: pem('server.crt'), keyPem: pem('server.key') }],
    });
    assert.deepEqual(ir.virtualHosts, []);
  });

  const badCerts = docs(
    CLASS,
    tlsSecret('infra', 'cert'),
    tlsSecret('infra', 'malformed', { cert: 'Hello world\n', key: 'Hello world\n' }),
    tlsSecret('infra', 'mismatch', { key: pem('other.key') }),
    tlsSecret('infra', 'opaque', { type: 'Opaque' }),
    tlsSecret('infra', 'no-key', { key: '' }),
    gatewayYaml('gw', {
      listeners: [
        https('missing', 'a.example.com', [{ name: 'nope' }]),
        https('wrong-group', 'b.example.com', [{ group: 'wrong.group.io', kind: 'Secret', name: 'cert' }]),
        https('wrong-kind', 'c.example.com', [{ group: '', kind: 'WrongKind', name: 'cert' }]),
        https('malformed', 'd.example.com', [{ name: 'malformed' }]),
        https('mismatch', 'e.example.com', [{ name: 'mismatch' }]),
        https('opaque', 'f.example.com', [{ name: 'opaque' }]),
        https('no-key', 'g.example.com', [{ name: 'no-key' }]),
      ],
    }),
  );

  test('missing, malformed or unsupported certificate refs are InvalidCertificateRef; routes still attach', () => {
    const { gateways } = contexts(badCerts);
    const r = run(badCerts);
    for (const name of ['missing', 'wrong-group', 'wrong-kind', 'malformed', 'mismatch', 'opaque', 'no-key']) {
      const l = r.listener('infra', 'gw', name);
      expectCondition(l.conditions, 'ResolvedRefs', 'False', 'InvalidCertificateRef');
      expectCondition(l.conditions, 'Accepted', 'True', 'Accepted');
      expectCondition(l.conditions, 'Programmed', 'False', 'Invalid');
      assert.deepEqual(l.supportedKinds, HTTP_KINDS);
      const lc = gateways[0].listeners.find((x) => x.name === name)!;
      assert.equal(lc.acceptsRoutes, true, name);
      assert.equal(lc.ir, undefined);
    }
    assert.match(r.listener('infra', 'gw', 'mismatch').conditions[2].message, /does not match/);
    assert.match(r.listener('infra', 'gw', 'missing').conditions[2].message, /infra\/nope does not exist/);
    const g = r.gateway('infra', 'gw');
    expectCondition(g.conditions, 'Accepted', 'True', 'ListenersNotValid');
    expectCondition(g.conditions, 'ResolvedRefs', 'False', 'ListenersNotResolved');
    assert.deepEqual(r.irGateway('infra', 'gw')!.listeners, []);
  });

  test('one valid certificate among invalid ones keeps the listener programmed', () => {
    const r = run(gw([https('https', undefined, [{ name: 'cert' }, { name: 'nope' }])]));
    const l = r.listener('infra', 'gw', 'https');
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'InvalidCertificateRef');
    expectCondition(l.conditions, 'Programmed', 'True', 'Programmed');
    assert.equal(r.irGateway('infra', 'gw')!.listeners[0].tls!.certificates.length, 1);
  });

  const crossNamespace = (grants: string[]) =>
    docs(
      CLASS,
      tlsSecret('certs', 'shared'),
      ...grants,
      gatewayYaml('gw', {
        listeners: [https('https', undefined, [{ group: '', kind: 'Secret', name: 'shared', namespace: 'certs' }])],
      }),
    );
  const grant = (from: Record<string, string>, to: Record<string, string>) =>
    JSON.stringify({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: `g-${Math.random().toString(36).slice(2)}`, namespace: 'certs' },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', ...from }],
        to: [{ group: '', kind: 'Secret', ...to }],
      },
    });

  test('a Secret in another namespace needs a ReferenceGrant (RefNotPermitted)', () => {
    const wrong = [
      grant({ kind: 'HTTPRoute' }, {}),
      grant({ namespace: 'elsewhere' }, {}),
      grant({ group: 'example.com' }, {}),
      grant({}, { kind: 'Service' }),
      grant({}, { name: 'other' }),
    ];
    const l = run(crossNamespace(wrong)).listener('infra', 'gw', 'https');
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'RefNotPermitted');
    expectCondition(l.conditions, 'Programmed', 'False', 'Invalid');
    for (const ok of [grant({}, {}), grant({}, { name: 'shared' })]) {
      const granted = run(crossNamespace([ok])).listener('infra', 'gw', 'https');
      expectCondition(granted.conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
      expectCondition(granted.conditions, 'Programmed', 'True', 'Programmed');
    }
  });

  test('a missing cross-namespace Secret without a grant is RefNotPermitted, not InvalidCertificateRef', () => {
    const yaml = docs(
      CLASS,
      gatewayYaml('gw', { listeners: [https('https', undefined, [{ name: 'x', namespace: 'y' }])] }),
    );
    expectCondition(run(yaml).listener('infra', 'gw', 'https').conditions, 'ResolvedRefs', 'False', 'RefNotPermitted');
  });

  test('invalid TLS settings make the listener not Accepted', () => {
    const r = run(
      gw([
        { name: 'https-passthrough', protocol: 'HTTPS', port: 443, tls: { mode: 'Passthrough' } },
        { name: 'https-no-tls', protocol: 'HTTPS', port: 444 },
        { name: 'tls-no-tls', protocol: 'TLS', port: 445 },
        { name: 'terminate-no-certs', protocol: 'TLS', port: 446, tls: { mode: 'Terminate' } },
        { name: 'http-with-tls', protocol: 'HTTP', port: 80, tls: { certificateRefs: [{ name: 'cert' }] } },
        { name: 'tcp-hostname', protocol: 'TCP', port: 9000, hostname: 'a.example.com' },
        { name: 'bad-hostname', protocol: 'HTTP', port: 81, hostname: 'Not_A_Host' },
        { name: 'ok', protocol: 'HTTP', port: 82 },
      ]),
      {},
      false, // the CRD's CEL rules reject all of these; an older CRD may have admitted them
    );
    expectCondition(r.listener('infra', 'gw', 'https-passthrough').conditions, 'Accepted', 'False', 'UnsupportedValue');
    for (const name of [
      'https-no-tls',
      'tls-no-tls',
      'terminate-no-certs',
      'http-with-tls',
      'tcp-hostname',
      'bad-hostname',
    ]) {
      const l = r.listener('infra', 'gw', name);
      expectCondition(l.conditions, 'Accepted', 'False', 'Invalid');
      expectCondition(l.conditions, 'Programmed', 'False', 'Invalid');
    }
    assert.deepEqual(
      r.irGateway('infra', 'gw')!.listeners.map((l) => l.sectionName),
      ['ok'],
    );
  });

  test('a Passthrough listener ignores certificateRefs and carries no certificate', () => {
    const r = run(
      gw([
        { name: 'pass', protocol: 'TLS', port: 443, tls: { mode: 'Passthrough', certificateRefs: [{ name: 'nope' }] } },
      ]),
    );
    expectCondition(r.listener('infra', 'gw', 'pass').conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
    const ir = r.irGateway('infra', 'gw')!.listeners[0];
    assert.deepEqual(ir.tls, { mode: 'Passthrough', certificates: [] });
    assert.deepEqual(ir.tlsRoutes, []);
    assert.equal(ir.tcpRoutes, undefined);
  });

  test('TLS options and the route tables of a terminating TLS listener', () => {
    const r = run(
      gw([
        {
          name: 'term',
          protocol: 'TLS',
          port: 8443,
          hostname: 'tls.example.com',
          tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert' }], options: { 'sluice.dev/min-version': '1.3' } },
        },
      ]),
    );
    const ir = r.irGateway('infra', 'gw')!.listeners[0];
    assert.deepEqual(ir.tls!.options, { 'sluice.dev/min-version': '1.3' });
    assert.deepEqual(ir.tlsRoutes, []);
    assert.deepEqual(ir.tcpRoutes, []);
  });
});

describe('conflicts', () => {
  test('listeners on one port with the same hostname are all HostnameConflict', () => {
    const r = run(
      gw([
        { name: 'a', protocol: 'HTTP', port: 80, hostname: 'foo.example.com' },
        { name: 'b', protocol: 'HTTP', port: 80, hostname: 'foo.example.com' },
        { name: 'c', protocol: 'HTTP', port: 80, hostname: 'bar.example.com' },
      ]),
      {},
      false, // within one Gateway the CRD's uniqueness rule rejects this; ListenerSets can still produce it
    );
    for (const name of ['a', 'b']) {
      const l = r.listener('infra', 'gw', name);
      expectCondition(l.conditions, 'Conflicted', 'True', 'HostnameConflict');
      expectCondition(l.conditions, 'Accepted', 'False', 'HostnameConflict');
      expectCondition(l.conditions, 'Programmed', 'False', 'HostnameConflict');
    }
    const c = r.listener('infra', 'gw', 'c');
    assert.equal(
      c.conditions.find((x) => x.type === 'Conflicted'),
      undefined,
    );
    expectCondition(c.conditions, 'Accepted', 'True', 'Accepted');
    expectCondition(r.gateway('infra', 'gw').conditions, 'Accepted', 'True', 'ListenersNotValid');
  });

  test('different protocols on one TCP port are ProtocolConflict; UDP ports are separate', () => {
    const r = run(
      gw([
        { name: 'http', protocol: 'HTTP', port: 80 },
        https('https', 'a.example.com', [{ name: 'cert' }], 80),
        { name: 'tcp', protocol: 'TCP', port: 80 },
        { name: 'udp', protocol: 'UDP', port: 80 },
        { name: 'tcp-a', protocol: 'TCP', port: 9000 },
        { name: 'tcp-b', protocol: 'TCP', port: 9000 },
      ]),
      {},
      false, // the CRD's uniqueness rule rejects tcp-a/tcp-b within one Gateway
    );
    for (const name of ['http', 'https', 'tcp', 'tcp-a', 'tcp-b']) {
      const l = r.listener('infra', 'gw', name);
      expectCondition(l.conditions, 'Conflicted', 'True', 'ProtocolConflict');
      expectCondition(l.conditions, 'Accepted', 'False', 'ProtocolConflict');
    }
    expectCondition(r.listener('infra', 'gw', 'udp').conditions, 'Accepted', 'True', 'Accepted');
  });

  test('HTTPS listeners with distinct hostnames share a port; TLS Terminate and Passthrough too', () => {
    const r = run(
      gw([
        https('a', 'a.example.com', [{ name: 'cert' }]),
        https('b', 'b.example.com', [{ name: 'cert' }]),
        {
          name: 'term',
          protocol: 'TLS',
          port: 8883,
          hostname: 'tls.example.com',
          tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert' }] },
        },
        { name: 'pass', protocol: 'TLS', port: 8883, hostname: 'abc.example.com', tls: { mode: 'Passthrough' } },
      ]),
    );
    for (const name of ['a', 'b', 'term', 'pass']) {
      expectCondition(r.listener('infra', 'gw', name).conditions, 'Accepted', 'True', 'Accepted');
    }
    expectCondition(r.gateway('infra', 'gw').conditions, 'Accepted', 'True', 'Accepted');
  });

  test('HTTPS listeners with overlapping hostnames on one port get OverlappingTLSConfig', () => {
    const r = run(
      gw([
        https('wild', '*.example.com', [{ name: 'cert' }]),
        https('exact', 'foo.example.com', [{ name: 'cert' }]),
        https('other', 'foo.example.org', [{ name: 'cert' }]),
        https('elsewhere', 'foo.example.com', [{ name: 'cert' }], 8443),
      ]),
    );
    expectCondition(
      r.listener('infra', 'gw', 'wild').conditions,
      'OverlappingTLSConfig',
      'True',
      'OverlappingHostnames',
    );
    expectCondition(
      r.listener('infra', 'gw', 'exact').conditions,
      'OverlappingTLSConfig',
      'True',
      'OverlappingHostnames',
    );
    for (const name of ['other', 'elsewhere']) {
      const l = r.listener('infra', 'gw', name);
      assert.equal(
        l.conditions.find((c) => c.type === 'OverlappingTLSConfig'),
        undefined,
        name,
      );
      expectCondition(l.conditions, 'Programmed', 'True', 'Programmed');
    }
  });
});

describe('allowedRoutes.namespaces', () => {
  const namespaces = docs(
    `{apiVersion: v1, kind: Namespace, metadata: {name: infra}}`,
    `{apiVersion: v1, kind: Namespace, metadata: {name: team-a, labels: {team: a, tier: web}}}`,
    `{apiVersion: v1, kind: Namespace, metadata: {name: team-b, labels: {team: b}}}`,
  );
  const sel = (name: string, selector: unknown) => ({
    name,
    protocol: 'HTTP',
    port: 80,
    hostname: `${name}.example.com`,
    allowedRoutes: { namespaces: { from: 'Selector', selector } },
  });
  const yaml = docs(
    namespaces,
    gw([
      { name: 'default', protocol: 'HTTP', port: 80 },
      {
        name: 'same',
        protocol: 'HTTP',
        port: 80,
        hostname: 'same.example.com',
        allowedRoutes: { namespaces: { from: 'Same' } },
      },
      {
        name: 'all',
        protocol: 'HTTP',
        port: 80,
        hostname: 'all.example.com',
        allowedRoutes: { namespaces: { from: 'All' } },
      },
      sel('labels', { matchLabels: { team: 'a' } }),
      sel('in', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }),
      sel('notin', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }),
      sel('exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }),
      sel('absent', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }),
      sel('by-name', { matchLabels: { 'kubernetes.io/metadata.name': 'team-b' } }),
      sel('empty', {}),
      { name: 'no-selector', protocol: 'HTTP', port: 81, allowedRoutes: { namespaces: { from: 'Selector' } } },
      sel('bad-op', { matchExpressions: [{ key: 'team', operator: 'Near', values: ['a'] }] }),
    ]),
  );

  test('From Same (the default), All and Selector decide which namespaces may attach', () => {
    const { gateways } = contexts(yaml);
    const allows = (listener: string) =>
      ['infra', 'team-a', 'team-b', 'unknown'].filter((ns) =>
        gateways[0].listeners.find((l) => l.name === listener)!.allowsNamespace(ns),
      );
    assert.deepEqual(allows('default'), ['infra']);
    assert.deepEqual(allows('same'), ['infra']);
    assert.deepEqual(allows('all'), ['infra', 'team-a', 'team-b', 'unknown']);
    assert.deepEqual(allows('labels'), ['team-a']);
    assert.deepEqual(allows('in'), ['team-a', 'team-b']);
    assert.deepEqual(allows('notin'), ['infra', 'team-b', 'unknown']);
    assert.deepEqual(allows('exists'), ['team-a']);
    assert.deepEqual(allows('absent'), ['infra', 'team-b', 'unknown']);
    assert.deepEqual(allows('by-name'), ['team-b']);
    assert.deepEqual(allows('empty'), ['infra', 'team-a', 'team-b', 'unknown']);
  });

  test('a missing or malformed selector makes the listener invalid', () => {
    const r = run(yaml);
    for (const name of ['no-selector', 'bad-op']) {
      expectCondition(r.listener('infra', 'gw', name).conditions, 'Accepted', 'False', 'Invalid');
    }
  });
});

describe('contexts and finalize', () => {
  test('ListenerContext carries the listener, its IR, and finalize writes attachedRoutes', () => {
    const yaml = gw([
      { name: 'http', protocol: 'HTTP', port: 80, hostname: 'www.example.com' },
      https('https', undefined, [{ name: 'missing' }]),
      { name: 'bad', protocol: 'QUIC', port: 1 },
    ]);
    const { ctx, gateways } = contexts(yaml);
    const [g] = gateways;
    assert.equal(g.accepted, true);
    const [http, httpsL, bad] = g.listeners;
    assert.deepEqual(
      {
        name: http.name,
        port: http.port,
        protocol: http.protocol,
        hostname: http.hostname,
        accepts: http.acceptsRoutes,
      },
      { name: 'http', port: 80, protocol: 'HTTP', hostname: 'www.example.com', accepts: true },
    );
    assert.equal(http.ir, g.ir!.listeners[0]);
    assert.equal(httpsL.tlsMode, 'Terminate');
    assert.equal(httpsL.acceptsRoutes, true);
    assert.equal(httpsL.ir, undefined);
    assert.equal(bad.acceptsRoutes, false);
    http.attachedRoutes = 2;
    httpsL.attachedRoutes = 1;
    finalizeGateways(ctx, gateways);
    const status = ctx.status.get('Gateway', 'infra', 'gw') as { listeners: Array<{ attachedRoutes: number }> };
    assert.deepEqual(
      status.listeners.map((l) => l.attachedRoutes),
      [2, 1, 0],
    );
  });
});

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotFromYaml } from '../support/snapshot.ts';
import { defaultOptions, TranslationContext } from '../../src/translate/context.ts';
import { translateGatewayClasses } from '../../src/translate/gatewayclass.ts';
import { finalizeGateways, translateGateways } from '../../src/translate/gateway.ts';
import { CLASS, docs, expectCondition, gatewayYaml, run, tlsSecret } from './fixtures/gateway-fixtures.ts';

const HTTP = (name: string, hostname?: string, port = 80) => ({
  name,
  protocol: 'HTTP',
  port,
  ...(hostname ? { hostname } : {}),
  allowedRoutes: { namespaces: { from: 'All' } },
});

function listenerSet(
  namespace: string,
  name: string,
  listeners: unknown[],
  parent: Record<string, string> = { name: 'gw', namespace: 'infra' },
  metadata: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ListenerSet',
    metadata: { name, namespace, generation: 2, ...metadata },
    spec: { parentRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', ...parent }, listeners },
  });
}

const namespace = (name: string, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

function contexts(yaml: string) {
  const ctx = new TranslationContext(snapshotFromYaml(yaml), defaultOptions({ now: '2026-01-01T00:00:00Z' }));
  return { ctx, gateways: translateGateways(ctx, translateGatewayClasses(ctx)) };
}

describe('attachment (allowedListeners)', () => {
  const gateway = (allowedListeners?: unknown) =>
    gatewayYaml('gw', { listeners: [HTTP('http')], ...(allowedListeners ? { allowedListeners } : {}) });

  test('by default, and with from None, a Gateway accepts no ListenerSet (NotAllowed)', () => {
    for (const allowed of [undefined, { namespaces: { from: 'None' } }]) {
      const r = run(docs(CLASS, gateway(allowed), listenerSet('infra', 'ls', [HTTP('extra', undefined, 8080)])));
      const ls = r.listenerSet('infra', 'ls');
      expectCondition(ls.conditions, 'Accepted', 'False', 'NotAllowed', 2);
      expectCondition(ls.conditions, 'Programmed', 'False', 'NotAllowed', 2);
      assert.equal(ls.listeners, undefined);
      const g = r.gateway('infra', 'gw');
      assert.equal(g.attachedListenerSets, 0);
      expectCondition(g.conditions, 'Accepted', 'True', 'Accepted');
      assert.equal(r.irGateway('infra', 'gw')!.listeners.length, 1);
    }
  });

  test('from Same accepts ListenerSets of the Gateway namespace only', () => {
    const r = run(
      docs(
        CLASS,
        gateway({ namespaces: { from: 'Same' } }),
        listenerSet('infra', 'same', [HTTP('same-listener', undefined, 8080)]),
        listenerSet('other', 'different', [HTTP('other-listener', undefined, 8081)]),
      ),
    );
    const same = r.listenerSet('infra', 'same');
    expectCondition(same.conditions, 'Accepted', 'True', 'Accepted', 2);
    expectCondition(same.conditions, 'Programmed', 'True', 'Programmed', 2);
    const l = r.listener('infra', 'same', 'same-listener', 'ListenerSet');
    for (const type of ['Accepted', 'Programmed', 'ResolvedRefs']) expectCondition(l.conditions, type, 'True', type, 2);
    assert.equal(l.attachedRoutes, 0);
    assert.deepEqual(
      l.supportedKinds.map((k) => k.kind),
      ['HTTPRoute', 'GRPCRoute'],
    );
    expectCondition(r.listenerSet('other', 'different').conditions, 'Accepted', 'False', 'NotAllowed', 2);
    assert.equal(r.gateway('infra', 'gw').attachedListenerSets, 1);
    assert.deepEqual(
      r.gateway('infra', 'gw').listeners?.map((x) => x.name),
      ['http'],
      'Gateway status lists only its own listeners',
    );
  });

  test('from Selector accepts ListenerSets in namespaces whose labels match; from All accepts any', () => {
    const sets = [
      namespace('selected', { 'listenerset-allowed': 'true' }),
      namespace('unselected'),
      listenerSet('selected', 'yes', [HTTP('l1', undefined, 8080)]),
      listenerSet('unselected', 'no', [HTTP('l2', undefined, 8081)]),
    ];
    const r = run(
      docs(
        CLASS,
        gateway({ namespaces: { from: 'Selector', selector: { matchLabels: { 'listenerset-allowed': 'true' } } } }),
        ...sets,
      ),
    );
    expectCondition(r.listenerSet('selected', 'yes').conditions, 'Accepted', 'True', 'Accepted', 2);
    expectCondition(r.listenerSet('unselected', 'no').conditions, 'Accepted', 'False', 'NotAllowed', 2);
    const all = run(docs(CLASS, gateway({ namespaces: { from: 'All' } }), ...sets));
    assert.equal(all.gateway('infra', 'gw').attachedListenerSets, 2);
  });

  test('a ListenerSet of a Gateway that is not accepted is ParentNotAccepted', () => {
    const r = run(
      docs(
        CLASS,
        gatewayYaml('gw', {
          listeners: [{ name: 'x', protocol: 'FOO', port: 1 }],
          allowedListeners: { namespaces: { from: 'All' } },
        }),
        listenerSet('infra', 'ls', [HTTP('l', undefined, 8080)]),
      ),
    );
    const ls = r.listenerSet('infra', 'ls');
    expectCondition(ls.conditions, 'Accepted', 'False', 'ParentNotAccepted', 2);
    expectCondition(ls.conditions, 'Programmed', 'False', 'ParentNotProgrammed', 2);
  });

  test('ListenerSets of Gateways that are not ours, or with a non-Gateway parent, get no status', () => {
    const r = run(
      docs(
        CLASS,
        gatewayYaml('theirs', {
          gatewayClassName: 'other',
          listeners: [HTTP('http')],
          allowedListeners: { namespaces: { from: 'All' } },
        }),
        listenerSet('infra', 'to-theirs', [HTTP('l')], { name: 'theirs', namespace: 'infra' }),
        listenerSet('infra', 'to-missing', [HTTP('l')], { name: 'missing' }),
        listenerSet('infra', 'to-service', [HTTP('l')], { name: 'gw', kind: 'Service', group: '' }),
      ),
    );
    for (const name of ['to-theirs', 'to-missing', 'to-service'])
      assert.equal(r.status('ListenerSet', 'infra', name), undefined);
  });
});

describe('listeners of ListenerSets', () => {
  const conflictYaml = () =>
    docs(
      CLASS,
      gatewayYaml('gw', {
        allowedListeners: { namespaces: { from: 'Same' } },
        listeners: [
          HTTP('gateway-listener', 'gateway-listener.com'),
          HTTP('protocol-conflict-with-gateway-listener', 'protocol-conflict-with-gateway-listener.com'),
        ],
      }),
      listenerSet('infra', 'ls-gateway-1', [
        HTTP('listener-set-1-listener', 'listener-set-1-listener.com'),
        { name: 'protocol-conflict-with-gateway-listener', port: 80, protocol: 'TCP' },
        HTTP('protocol-conflict-with-listener-set-listener', 'protocol-conflict-with-listener-set-listener.com'),
      ]),
      listenerSet('infra', 'ls-gateway-2', [
        { name: 'protocol-conflict-with-gateway-listener', port: 80, protocol: 'TCP' },
      ]),
      listenerSet('infra', 'ls-listener-set-1', [
        HTTP('listener-set-2-listener', 'listener-set-2-listener.com'),
        { name: 'protocol-conflict-with-listener-set-listener', port: 80, protocol: 'TCP' },
      ]),
      listenerSet('infra', 'ls-listener-set-2', [
        { name: 'protocol-conflict-with-listener-set-listener', port: 80, protocol: 'TCP' },
      ]),
    );

  test('the Gateway wins conflicts, then ListenerSets in name order (ListenerSetProtocolConflict)', () => {
    const r = run(conflictYaml());
    const ok = (ns: string, name: string, listener: string, kind = 'ListenerSet') => {
      const l = r.listener(ns, name, listener, kind);
      for (const type of ['Accepted', 'Programmed', 'ResolvedRefs'])
        expectCondition(l.conditions, type, 'True', type, kind === 'Gateway' ? 1 : 2);
    };
    const conflicted = (name: string, listener: string) => {
      const l = r.listener('infra', name, listener, 'ListenerSet');
      for (const type of ['Accepted', 'Programmed'])
        expectCondition(l.conditions, type, 'False', 'ProtocolConflict', 2);
      expectCondition(l.conditions, 'Conflicted', 'True', 'ProtocolConflict', 2);
    };
    ok('infra', 'gw', 'gateway-listener', 'Gateway');
    ok('infra', 'gw', 'protocol-conflict-with-gateway-listener', 'Gateway');
    ok('infra', 'ls-gateway-1', 'listener-set-1-listener');
    ok('infra', 'ls-gateway-1', 'protocol-conflict-with-listener-set-listener');
    conflicted('ls-gateway-1', 'protocol-conflict-with-gateway-listener');
    conflicted('ls-gateway-2', 'protocol-conflict-with-gateway-listener');
    conflicted('ls-listener-set-1', 'protocol-conflict-with-listener-set-listener');
    conflicted('ls-listener-set-2', 'protocol-conflict-with-listener-set-listener');
    for (const name of ['ls-gateway-1', 'ls-listener-set-1']) {
      const s = r.listenerSet('infra', name);
      expectCondition(s.conditions, 'Accepted', 'True', 'ListenersNotValid', 2);
      expectCondition(s.conditions, 'Programmed', 'True', 'Programmed', 2);
    }
    for (const name of ['ls-gateway-2', 'ls-listener-set-2']) {
      const s = r.listenerSet('infra', name);
      expectCondition(s.conditions, 'Accepted', 'False', 'ListenersNotValid', 2);
      expectCondition(s.conditions, 'Programmed', 'False', 'ListenersNotValid', 2);
    }
    const g = r.gateway('infra', 'gw');
    expectCondition(g.conditions, 'Accepted', 'True', 'Accepted');
    expectCondition(g.conditions, 'Programmed', 'True', 'Programmed');
    assert.equal(g.attachedListenerSets, 2);
  });

  test('an older ListenerSet wins over one that sorts first by name', () => {
    const r = run(
      docs(
        CLASS,
        gatewayYaml('gw', { allowedListeners: { namespaces: { from: 'Same' } }, listeners: [HTTP('http')] }),
        listenerSet('infra', 'a-newer', [HTTP('web', 'web.example.com', 8080)], undefined, {
          creationTimestamp: '2026-01-02T00:00:00Z',
        }),
        listenerSet('infra', 'b-older', [HTTP('web', 'web.example.com', 8080)], undefined, {
          creationTimestamp: '2026-01-01T00:00:00Z',
        }),
      ),
    );
    expectCondition(r.listener('infra', 'b-older', 'web', 'ListenerSet').conditions, 'Accepted', 'True', 'Accepted', 2);
    const lost = r.listener('infra', 'a-newer', 'web', 'ListenerSet');
    expectCondition(lost.conditions, 'Accepted', 'False', 'HostnameConflict', 2);
    expectCondition(lost.conditions, 'Conflicted', 'True', 'HostnameConflict', 2);
    assert.match(lost.conditions.find((c) => c.type === 'Conflicted')!.message, /ListenerSet infra\/b-older/);
  });

  test('IR names, contexts and finalize for ListenerSet listeners', () => {
    const yaml = docs(
      CLASS,
      gatewayYaml('gw', {
        allowedListeners: { namespaces: { from: 'All' } },
        listeners: [HTTP('http', 'gw.example.com')],
      }),
      listenerSet('team', 'ls', [{ name: 'http', protocol: 'HTTP', port: 80, hostname: 'team.example.com' }]),
      listenerSet('team', 'broken', [{ name: 'bad', protocol: 'FOO', port: 1 }]),
    );
    const { ctx, gateways } = contexts(yaml);
    const [g] = gateways;
    assert.deepEqual(
      g.listenerSets.map((s) => s.metadata.name),
      ['ls'],
    );
    const lsListener = g.listeners.find((l) => l.listenerSet?.metadata.name === 'ls')!;
    assert.equal(lsListener.name, 'http');
    assert.equal(lsListener.acceptsRoutes, true);
    assert.equal(lsListener.allowsNamespace('team'), true, 'from Same means the ListenerSet namespace');
    assert.equal(lsListener.allowsNamespace('infra'), false);
    assert.deepEqual(
      g.ir!.listeners.map((l) => [l.name, l.listenerSet]),
      [
        ['infra/gw/http', undefined],
        ['infra/gw/team/ls/http', { namespace: 'team', name: 'ls' }],
      ],
    );
    lsListener.attachedRoutes = 3;
    finalizeGateways(ctx, gateways);
    const status = ctx.status.get('ListenerSet', 'team', 'ls') as { listeners: Array<{ attachedRoutes: number }> };
    assert.equal(status.listeners[0].attachedRoutes, 3);
    expectCondition(
      (ctx.status.get('ListenerSet', 'team', 'broken') as { conditions: never }).conditions,
      'Accepted',
      'False',
      'ListenersNotValid',
      2,
    );
  });

  test('certificates in another namespace need a ReferenceGrant from ListenerSets (ListenerSetReferenceGrant)', () => {
    const grant = (name: string, kind: string, ns: string) =>
      JSON.stringify({
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'ReferenceGrant',
        metadata: { name, namespace: 'web' },
        spec: {
          from: [{ group: 'gateway.networking.k8s.io', kind, namespace: ns }],
          to: [{ group: '', kind: 'Secret' }],
        },
      });
    const https = (name: string, hostname: string) => ({
      name,
      protocol: 'HTTPS',
      port: 443,
      hostname,
      tls: { certificateRefs: [{ group: '', kind: 'Secret', name: 'certificate', namespace: 'web' }] },
    });
    const r = run(
      docs(
        CLASS,
        tlsSecret('web', 'certificate'),
        grant('for-gateway', 'Gateway', 'infra'),
        grant('for-listener-set', 'ListenerSet', 'infra'),
        gatewayYaml('gw', {
          allowedListeners: { namespaces: { from: 'All' } },
          listeners: [https('gateway-listener', 'gateway-listener.com')],
        }),
        listenerSet('infra', 'with-grant', [https('with-grant-listener', 'a.example.com')]),
        listenerSet('other', 'without-grant', [https('without-grant-listener', 'b.example.com')]),
      ),
    );
    expectCondition(r.listener('infra', 'gw', 'gateway-listener').conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
    const ok = r.listenerSet('infra', 'with-grant');
    expectCondition(ok.conditions, 'Accepted', 'True', 'Accepted', 2);
    expectCondition(ok.conditions, 'Programmed', 'True', 'Programmed', 2);
    const bad = r.listenerSet('other', 'without-grant');
    expectCondition(bad.conditions, 'Accepted', 'False', 'ListenersNotValid', 2);
    expectCondition(bad.conditions, 'Programmed', 'False', 'ListenersNotValid', 2);
    expectCondition(
      r.listener('other', 'without-grant', 'without-grant-listener', 'ListenerSet').conditions,
      'ResolvedRefs',
      'False',
      'RefNotPermitted',
      2,
    );
  });

  test('a TLS listener that only allows HTTPRoute reports InvalidRouteKinds', () => {
    const r = run(
      docs(
        CLASS,
        gatewayYaml('gw', { allowedListeners: { namespaces: { from: 'Same' } }, listeners: [HTTP('http')] }),
        listenerSet('infra', 'ls', [
          {
            name: 'tls-only',
            protocol: 'TLS',
            port: 443,
            tls: { mode: 'Passthrough' },
            allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }] },
          },
        ]),
      ),
    );
    const l = r.listener('infra', 'ls', 'tls-only', 'ListenerSet');
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'InvalidRouteKinds', 2);
    assert.deepEqual(l.supportedKinds, []);
  });
});

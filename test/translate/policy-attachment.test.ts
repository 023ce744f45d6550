/**
 * The policy attachment module: target resolution (targetRefs, the
 * deprecated targetRef, targetSelectors with their namespaces and the
 * ReferenceGrant they need across namespaces), age order, claims, and the
 * ancestor status writer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultOptions, TranslationContext } from '../../src/translate/context.ts';
import { byAge, Claims } from '../../src/translate/policy/attachment.ts';
import { PolicyStatus } from '../../src/translate/policy/status.ts';
import { resolveTargets, type Candidate, type PolicyObject } from '../../src/translate/policy/targets.ts';
import { emptySnapshot } from '../../src/providers/snapshot.ts';
import type { ResourceSnapshot } from '../../src/providers/snapshot.ts';
import type { ReferenceGrant } from '../../src/api/generated/index.ts';

const NOW = '2026-01-01T00:00:00Z';

function context(patch: Partial<ResourceSnapshot> = {}): TranslationContext {
  return new TranslationContext({ ...emptySnapshot(), ...patch }, defaultOptions({ now: NOW }));
}

function gateway(namespace: string, name: string, labels: Record<string, string> = {}, created?: string): Candidate {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { namespace, name, labels, ...(created ? { creationTimestamp: created } : {}) },
  };
}

function policy(spec: PolicyObject['spec'], meta: Partial<PolicyObject['metadata']> = {}): PolicyObject {
  return {
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'ClientTrafficPolicy',
    metadata: { namespace: 'infra', name: 'p', generation: 3, ...meta },
    spec,
  };
}

const grant = (namespace: string, fromNamespace: string): ReferenceGrant => ({
  apiVersion: 'gateway.networking.k8s.io/v1beta1',
  kind: 'ReferenceGrant',
  metadata: { namespace, name: 'g' },
  spec: {
    from: [{ group: 'gateway.envoyproxy.io', kind: 'ClientTrafficPolicy', namespace: fromNamespace }],
    to: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway' }],
  },
});

test('targetRefs resolve in the policy namespace, with sectionName; the deprecated targetRef works alone', () => {
  const ctx = context();
  const p = policy({
    targetRefs: [
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'web' },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'web', sectionName: 'https' },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'web' },
    ],
  });
  assert.deepEqual(resolveTargets(ctx, p, []), [
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'web', selected: false },
    {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'infra',
      name: 'web',
      sectionName: 'https',
      selected: false,
    },
  ]);
  const single = policy({ targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'old' } });
  assert.deepEqual(
    resolveTargets(ctx, single, []).map((t) => t.name),
    ['old'],
  );
});

test('targetSelectors match labels in the policy namespace by default, oldest object first, before plain refs', () => {
  const ctx = context();
  const candidates = [
    gateway('infra', 'b', { tier: 'edge' }, '2025-02-01T00:00:00Z'),
    gateway('infra', 'a', { tier: 'edge' }, '2025-03-01T00:00:00Z'),
    gateway('infra', 'c', { tier: 'edge' }, '2025-01-01T00:00:00Z'),
    gateway('infra', 'internal', { tier: 'internal' }),
    gateway('other', 'd', { tier: 'edge' }),
  ];
  const p = policy({
    targetRefs: [
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'named' },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'a' },
    ],
    targetSelectors: [{ kind: 'Gateway', matchLabels: { tier: 'edge' } }],
  });
  const got = resolveTargets(ctx, p, candidates).map((t) => `${t.namespace}/${t.name}:${t.selected}`);
  assert.deepEqual(got, ['infra/c:true', 'infra/b:true', 'infra/a:true', 'infra/named:false']);
});

test('a selector reaching other namespaces takes an object there only with a ReferenceGrant', () => {
  const candidates = [gateway('infra', 'own', { tier: 'edge' }), gateway('granted', 'g', { tier: 'edge' })];
  candidates.push(gateway('denied', 'd', { tier: 'edge' }));
  const all = policy({
    targetSelectors: [{ kind: 'Gateway', matchLabels: { tier: 'edge' }, namespaces: { from: 'All' } }],
  });
  const names = (ctx: TranslationContext, p: PolicyObject): string[] =>
    resolveTargets(ctx, p, candidates).map((t) => `${t.namespace}/${t.name}`);
  assert.deepEqual(names(context(), all), ['infra/own']);
  assert.deepEqual(names(context({ referenceGrants: [grant('granted', 'infra')] }), all), ['granted/g', 'infra/own']);
  // A grant for another policy namespace does not count.
  assert.deepEqual(names(context({ referenceGrants: [grant('granted', 'elsewhere')] }), all), ['infra/own']);

  const bySelector = policy({
    targetSelectors: [
      {
        kind: 'Gateway',
        matchLabels: { tier: 'edge' },
        namespaces: { from: 'Selector', selector: { matchLabels: { shared: 'yes' } } },
      },
    ],
  });
  const namespaces = [
    { apiVersion: 'v1' as const, kind: 'Namespace' as const, metadata: { name: 'granted', labels: { shared: 'yes' } } },
  ];
  const ctx = context({ namespaces, referenceGrants: [grant('granted', 'infra')] });
  assert.deepEqual(names(ctx, bySelector), ['granted/g']);
});

test('a selector of another kind or group, or a malformed one, selects nothing', () => {
  const ctx = context();
  const candidates = [gateway('infra', 'web', { tier: 'edge' })];
  const p = policy({
    targetSelectors: [
      { kind: 'HTTPRoute', matchLabels: { tier: 'edge' } },
      { group: 'example.com', kind: 'Gateway', matchLabels: { tier: 'edge' } },
      { kind: 'Gateway', matchExpressions: [{ key: 'tier', operator: 'Near', values: ['edge'] }] },
    ],
  });
  assert.deepEqual(resolveTargets(ctx, p, candidates), []);
});

test('byAge: oldest first, then namespace/name; no timestamp counts as the epoch', () => {
  const ps = [
    policy({}, { name: 'z', creationTimestamp: '2025-01-01T00:00:00Z' }),
    policy({}, { name: 'y', creationTimestamp: '2025-01-01T00:00:00Z' }),
    policy({}, { name: 'x', creationTimestamp: '2025-02-01T00:00:00Z' }),
    policy({}, { name: 'w' }),
  ];
  assert.deepEqual(
    byAge(ps).map((p) => p.metadata.name),
    ['w', 'y', 'z', 'x'],
  );
});

test('claims: the first holder keeps a key; claiming again with the same holder is not a conflict', () => {
  const claims = new Claims<string>();
  assert.equal(claims.claim('gw', 'old'), undefined);
  assert.equal(claims.claim('gw', 'old'), undefined);
  assert.equal(claims.claim('gw', 'new'), 'old');
  assert.equal(claims.get('gw'), 'old');
});

test('ancestor status: a failure set first stays, Accepted comes first, other controllers are kept', () => {
  const ctx = context();
  const p = {
    ...policy({}),
    status: {
      ancestors: [
        {
          ancestorRef: { name: 'web', namespace: 'infra', group: 'gateway.networking.k8s.io', kind: 'Gateway' },
          controllerName: 'example.com/other',
          conditions: [],
        },
        {
          ancestorRef: { name: 'web', group: 'gateway.networking.k8s.io', kind: 'Gateway' },
          controllerName: 'sluice.dev/gateway-controller',
          conditions: [
            {
              type: 'Accepted',
              status: 'True',
              reason: 'Accepted',
              message: '',
              lastTransitionTime: '2020-01-01T00:00:00Z',
            },
          ],
        },
      ],
    },
  };
  const s = new PolicyStatus(ctx, p);
  const web = { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'web' };
  const https = { ...web, sectionName: 'https' };
  s.set(web, 'Overridden', 'True', 'Overridden', 'sections [https]');
  s.accept([web]);
  s.reject([https], 'Conflicted', 'taken');
  s.accept([https]);
  s.write();
  const written = ctx.status.get('ClientTrafficPolicy', 'infra', 'p') as { ancestors: Array<Record<string, unknown>> };
  assert.equal(written.ancestors.length, 3);
  assert.equal(written.ancestors[0].controllerName, 'example.com/other');
  const [, gw, section] = written.ancestors as Array<{ conditions: Array<Record<string, unknown>> }>;
  assert.deepEqual(
    gw.conditions.map((c) => [c.type, c.status, c.observedGeneration]),
    [
      ['Accepted', 'True', 3],
      ['Overridden', 'True', 3],
    ],
  );
  // The previous entry's namespace defaulted to the policy's: same ancestor, so its transition time is kept.
  assert.equal(gw.conditions[0].lastTransitionTime, '2020-01-01T00:00:00Z');
  assert.deepEqual(
    section.conditions.map((c) => [c.type, c.status, c.reason]),
    [['Accepted', 'False', 'Conflicted']],
  );
});

test('ancestor status: ours are removed once the policy attaches nowhere; nothing is written for a stranger', () => {
  const ctx = context();
  const ours = {
    ...policy({}, { name: 'was-ours' }),
    status: {
      ancestors: [{ ancestorRef: { name: 'web' }, controllerName: 'sluice.dev/gateway-controller', conditions: [] }],
    },
  };
  new PolicyStatus(ctx, ours).write();
  assert.deepEqual(ctx.status.get('ClientTrafficPolicy', 'infra', 'was-ours'), { ancestors: [] });
  new PolicyStatus(ctx, policy({}, { name: 'stranger' })).write();
  assert.equal(ctx.status.get('ClientTrafficPolicy', 'infra', 'stranger'), undefined);
});

test('ancestor status: at most 16 entries, failures first, the last one marked Aggregated', () => {
  const ctx = context();
  const s = new PolicyStatus(ctx, policy({}));
  for (let i = 0; i < 20; i++) {
    const ref = {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'infra',
      name: `gw-${String(i).padStart(2, '0')}`,
    };
    if (i === 19) s.reject([ref], 'Conflicted', 'taken');
    s.accept([ref]);
  }
  s.write();
  const ancestors = (
    ctx.status.get('ClientTrafficPolicy', 'infra', 'p') as {
      ancestors: Array<{ ancestorRef: { name: string }; conditions: Array<{ type: string }> }>;
    }
  ).ancestors;
  assert.equal(ancestors.length, 16);
  assert.equal(ancestors[0].ancestorRef.name, 'gw-19');
  assert.deepEqual(
    ancestors[15].conditions.map((c) => c.type),
    ['Accepted', 'Aggregated'],
  );
});

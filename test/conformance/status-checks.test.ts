import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../src/api/object.ts';
import type { GatewayStatusCheck, ParentExpectation, PolicyStatusCheck, RouteStatusCheck } from './case-types.ts';
import {
  judgeGatewayClassStatus,
  judgeGatewayStatus,
  judgeLatestConditions,
  judgePolicyStatus,
  judgeRouteStatus,
  judgeStatusCheck,
} from './status-checks.ts';

const CONTROLLER = 'sluice.dev/gateway-controller';
const G = 'gateway.networking.k8s.io';

function cond(type: string, status: string, reason: string, observedGeneration = 1) {
  return { type, status, reason, observedGeneration };
}

function route(parents: unknown[], generation = 1): KubeObject {
  return {
    apiVersion: `${G}/v1`,
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'infra', generation },
    status: { parents },
  };
}

function parentStatus(
  name: string,
  extra: Record<string, unknown> = {},
  conditions = [cond('Accepted', 'True', 'Accepted')],
) {
  return { parentRef: { group: G, kind: 'Gateway', name, ...extra }, controllerName: CONTROLLER, conditions };
}

function expectParent(name: string, extra: Partial<ParentExpectation> = {}): ParentExpectation {
  return {
    parentRef: { group: G, kind: 'Gateway', name, namespace: 'infra' },
    controllerName: '*',
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
    ...extra,
  };
}

function routeCheck(parents: ParentExpectation[], extra: Partial<RouteStatusCheck> = {}): RouteStatusCheck {
  return { kind: 'routeStatus', route: { kind: 'HTTPRoute', namespace: 'infra', name: 'r' }, parents, ...extra };
}

describe('routeStatus', () => {
  test('matches with namespace defaulted and controllerName "*"', () => {
    assert.deepEqual(judgeRouteStatus(routeCheck([expectParent('g')]), route([parentStatus('g')]), CONTROLLER), {
      ok: true,
    });
  });
  test('controllerName "*" is the class controller, not any', () => {
    const r = route([{ ...parentStatus('g'), controllerName: 'other.io/c' }]);
    const v = judgeRouteStatus(routeCheck([expectParent('g')]), r, CONTROLLER);
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.reason : '', /controllerName: want sluice/);
  });
  test('missing route', () => {
    const v = judgeRouteStatus(routeCheck([expectParent('g')]), undefined, CONTROLLER);
    assert.match(!v.ok ? v.reason : '', /HTTPRoute infra\/r not found/);
  });
  test('exactParents rejects other parents; without it they are allowed', () => {
    const r = route([parentStatus('g'), parentStatus('h')]);
    assert.equal(judgeRouteStatus(routeCheck([expectParent('g')]), r, CONTROLLER).ok, true);
    const v = judgeRouteStatus(routeCheck([expectParent('g')], { exactParents: true }), r, CONTROLLER);
    assert.match(!v.ok ? v.reason : '', /exactly 1 parent.*unexpected: Gateway h/);
  });
  test('"parents": [] with exactParents means no parent status at all', () => {
    assert.equal(judgeRouteStatus(routeCheck([], { exactParents: true }), route([]), CONTROLLER).ok, true);
    assert.equal(
      judgeRouteStatus(routeCheck([], { exactParents: true }), route([parentStatus('g')]), CONTROLLER).ok,
      false,
    );
  });
  test('allowNoParents: no accepted parent = empty status or one Accepted=False entry', () => {
    const check = routeCheck(
      [
        expectParent('g', {
          controllerName: undefined,
          conditions: [{ type: 'Accepted', status: 'False', reason: '*' }],
        }),
      ],
      { exactParents: true, allowNoParents: true },
    );
    assert.equal(judgeRouteStatus(check, route([]), CONTROLLER).ok, true);
    const rejected = parentStatus('g', {}, [cond('Accepted', 'False', 'NotAllowedByListeners')]);
    assert.equal(judgeRouteStatus(check, route([rejected]), CONTROLLER).ok, true);
    assert.equal(judgeRouteStatus(check, route([parentStatus('g')]), CONTROLLER).ok, false);
    assert.equal(judgeRouteStatus({ ...check, allowNoParents: false }, route([]), CONTROLLER).ok, false);
  });
  test('repeated identical expectations need one status entry each', () => {
    const check = routeCheck([expectParent('g'), expectParent('g')]);
    const two = route([parentStatus('g', { sectionName: 'a' }), parentStatus('g', { sectionName: 'b' })]);
    assert.equal(judgeRouteStatus(check, two, CONTROLLER).ok, true);
    const v = judgeRouteStatus(check, route([parentStatus('g', { sectionName: 'a' })]), CONTROLLER);
    assert.match(!v.ok ? v.reason : '', /2 parent entries expected/);
  });
  test('condition mismatch names the parent and the condition', () => {
    const r = route([parentStatus('g', {}, [cond('Accepted', 'False', 'NotAllowedByListeners')])]);
    const v = judgeRouteStatus(routeCheck([expectParent('g')]), r, CONTROLLER);
    assert.match(!v.ok ? v.reason : '', /parent Gateway infra\/g: condition Accepted: want True\/Accepted, got False/);
  });
  test('no parent matching the ref lists what the status has', () => {
    const v = judgeRouteStatus(routeCheck([expectParent('g')]), route([parentStatus('h')]), CONTROLLER);
    assert.match(!v.ok ? v.reason : '', /no status parent matches Gateway infra\/g \(status parents: Gateway h\)/);
  });
  test('a stale parent is reported as stale', () => {
    const v = judgeRouteStatus(routeCheck([expectParent('g')]), route([parentStatus('g')], 2), CONTROLLER);
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.stale, true);
  });
});

function gateway(status: Record<string, unknown>, generation = 1): KubeObject {
  return { apiVersion: `${G}/v1`, kind: 'Gateway', metadata: { name: 'g', namespace: 'infra', generation }, status };
}

function gwCheck(extra: Partial<GatewayStatusCheck>): GatewayStatusCheck {
  return { kind: 'gatewayStatus', gateway: { namespace: 'infra', name: 'g' }, ...extra };
}

describe('gatewayStatus', () => {
  const status = {
    conditions: [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'True', 'Programmed')],
    addresses: [{ type: 'IPAddress', value: '127.0.1.1' }],
    listeners: [
      {
        name: 'http',
        attachedRoutes: 0,
        supportedKinds: [{ group: G, kind: 'HTTPRoute' }],
        conditions: [cond('Accepted', 'True', 'Accepted')],
      },
    ],
  };
  test('conditions, listeners, requireAddress', () => {
    const check = gwCheck({
      conditions: [{ type: 'Programmed', status: 'True', reason: '*' }],
      listeners: [{ name: 'http', attachedRoutes: 0, supportedKinds: [{ group: G, kind: 'HTTPRoute' }] }],
      exactListeners: true,
      requireAddress: true,
    });
    assert.deepEqual(judgeGatewayStatus(check, gateway(status)), { ok: true });
  });
  test('requireAddress needs an entry with a type', () => {
    const v = judgeGatewayStatus(
      gwCheck({ requireAddress: true }),
      gateway({ ...status, addresses: [{ value: 'x' }] }),
    );
    assert.match(!v.ok ? v.reason : '', /no status.addresses entry with a type/);
  });
  test('attachedListenerSets: absent counts as 0', () => {
    assert.equal(judgeGatewayStatus(gwCheck({ attachedListenerSets: 0 }), gateway(status)).ok, true);
    assert.equal(judgeGatewayStatus(gwCheck({ attachedListenerSets: 1 }), gateway(status)).ok, false);
  });
  test('stale Gateway or listener conditions fail as stale', () => {
    const v = judgeGatewayStatus(gwCheck({ conditions: [] }), gateway(status, 2));
    assert.equal(!v.ok && v.stale, true);
    const staleListener = { ...status, listeners: [{ name: 'http', conditions: [cond('Accepted', 'True', 'A', 0)] }] };
    const w = judgeGatewayStatus(gwCheck({ listeners: [{ name: 'http' }] }), gateway(staleListener));
    assert.match(!w.ok ? w.reason : '', /listener http condition Accepted has observedGeneration 0/);
  });
  test('addresses', () => {
    const v = judgeGatewayStatus(
      gwCheck({ addresses: { exactCount: 1, notContains: ['127.0.1.1'] } }),
      gateway(status),
    );
    assert.match(!v.ok ? v.reason : '', /must not be in status/);
  });
});

test('gatewayClassStatus with status "*"', () => {
  const gc: KubeObject = {
    apiVersion: `${G}/v1`,
    kind: 'GatewayClass',
    metadata: { name: 'c', generation: 2 },
    status: { conditions: [cond('Accepted', 'False', 'InvalidParameters', 2)] },
  };
  const check = {
    kind: 'gatewayClassStatus' as const,
    gatewayClass: { name: 'c' },
    conditions: [{ type: 'Accepted', status: '*', reason: '*' }],
  };
  assert.equal(judgeGatewayClassStatus(check, gc).ok, true);
  assert.equal(judgeGatewayClassStatus(check, { ...gc, metadata: { name: 'c', generation: 3 } }).ok, false);
});

describe('policyStatus', () => {
  const policy = (ancestors: unknown[], generation = 1): KubeObject => ({
    apiVersion: `${G}/v1`,
    kind: 'BackendTLSPolicy',
    metadata: { name: 'p', namespace: 'infra', generation },
    status: { ancestors },
  });
  const check: PolicyStatusCheck = {
    kind: 'policyStatus',
    policy: { kind: 'BackendTLSPolicy', namespace: 'infra', name: 'p' },
    ancestors: [
      {
        ancestorRef: { name: 'g', namespace: 'infra' },
        conditions: [
          { type: 'Accepted', status: 'True', reason: 'Accepted' },
          { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' },
        ],
      },
    ],
  };
  const ok = {
    ancestorRef: { group: G, kind: 'Gateway', name: 'g' },
    controllerName: CONTROLLER,
    conditions: [cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'True', 'ResolvedRefs')],
  };
  test('each listed condition must hold on one ancestor', () => {
    assert.equal(judgePolicyStatus(check, policy([ok])).ok, true);
    const bad = {
      ...ok,
      conditions: [cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'False', 'InvalidCACertificateRef')],
    };
    const v = judgePolicyStatus(check, policy([bad]));
    assert.match(!v.ok ? v.reason : '', /ancestor Gateway infra\/g: condition ResolvedRefs/);
  });
  test('observedGenerationCurrent alone: an empty status passes, a stale ancestor fails', () => {
    const genOnly: PolicyStatusCheck = { ...check, ancestors: undefined, observedGenerationCurrent: true };
    assert.equal(judgePolicyStatus(genOnly, policy([])).ok, true);
    assert.equal(judgePolicyStatus(genOnly, policy([ok], 2)).ok, false);
  });
});

test('latestConditions covers own conditions and route parents; no conditions passes', () => {
  const check = {
    kind: 'latestConditions' as const,
    target: { apiVersion: `${G}/v1`, kind: 'HTTPRoute', namespace: 'infra', name: 'r' },
  };
  assert.equal(judgeLatestConditions(check, route([parentStatus('g')])).ok, true);
  assert.equal(judgeLatestConditions(check, route([parentStatus('g')], 2)).ok, false);
  assert.equal(judgeLatestConditions(check, route([], 5)).ok, true);
  assert.equal(judgeLatestConditions(check, undefined).ok, false);
});

test('judgeStatusCheck looks objects up by Gateway API group and kind', () => {
  const seen: unknown[] = [];
  const r = route([parentStatus('g')]);
  const v = judgeStatusCheck(routeCheck([expectParent('g')]), {
    controllerName: CONTROLLER,
    lookup: (ref) => {
      seen.push(ref);
      return r;
    },
  });
  assert.equal(v.ok, true);
  assert.deepEqual(seen, [{ group: G, kind: 'HTTPRoute', namespace: 'infra', name: 'r' }]);
});

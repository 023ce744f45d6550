import { test } from 'node:test';
import assert from 'node:assert/strict';
import { carryStatusTimes } from '../../src/controlplane/status-times.ts';
import type { StatusEntry } from '../../src/translate/status.ts';

type Parents = Array<{ conditions: Array<{ lastTransitionTime: string }> }>;

const cond = (type: string, status: string, t: string) => ({
  type,
  status,
  reason: type,
  message: '',
  lastTransitionTime: t,
});

function route(t: string, accepted: string): StatusEntry {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    namespace: 'default',
    name: 'r',
    status: {
      parents: [
        {
          parentRef: { name: 'web' },
          controllerName: 'sluice.dev/gateway-controller',
          conditions: [cond('Accepted', accepted, t), cond('ResolvedRefs', 'True', t)],
        },
      ],
    },
  };
}

test('a condition keeps its lastTransitionTime across reloads until its status changes', () => {
  const before = [route('2026-01-01T00:00:00Z', 'True')];
  const same = [route('2026-01-02T00:00:00Z', 'True')];
  carryStatusTimes(same, before);
  const c1 = (same[0].status.parents as Parents)[0].conditions;
  assert.equal(c1[0].lastTransitionTime, '2026-01-01T00:00:00Z');

  const flipped = [route('2026-01-03T00:00:00Z', 'False')];
  carryStatusTimes(flipped, same);
  const c2 = (flipped[0].status.parents as Parents)[0].conditions;
  assert.equal(c2[0].lastTransitionTime, '2026-01-03T00:00:00Z', 'Accepted changed: new time');
  assert.equal(c2[1].lastTransitionTime, '2026-01-01T00:00:00Z', 'ResolvedRefs did not');
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ancestorRefMatches,
  assign,
  matchAddresses,
  matchConditions,
  matchListeners,
  parentRefMatches,
  staleCondition,
} from './status-match.ts';

describe('matchConditions', () => {
  const actual = [
    { type: 'Accepted', status: 'True', reason: 'Accepted' },
    { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' },
  ];
  test('subset match: other conditions may be present', () => {
    assert.equal(matchConditions([{ type: 'Accepted', status: 'True', reason: 'Accepted' }], actual), undefined);
  });
  test('reason "*" matches any reason, status "*" any status', () => {
    assert.equal(matchConditions([{ type: 'ResolvedRefs', status: 'False', reason: '*' }], actual), undefined);
    assert.equal(matchConditions([{ type: 'ResolvedRefs', status: '*', reason: '*' }], actual), undefined);
  });
  test('wrong status or reason is reported with what was found', () => {
    assert.equal(
      matchConditions([{ type: 'ResolvedRefs', status: 'True', reason: '*' }], actual),
      'condition ResolvedRefs: want True/*, got False/BackendNotFound',
    );
    assert.match(matchConditions([{ type: 'Accepted', status: 'True', reason: 'Other' }], actual)!, /want True\/Other/);
  });
  test('missing condition', () => {
    assert.match(matchConditions([{ type: 'Programmed', status: 'True', reason: '*' }], actual)!, /Programmed missing/);
  });
  test('nothing expected passes', () => {
    assert.equal(matchConditions(undefined, []), undefined);
  });
});

describe('staleCondition', () => {
  test('current generation passes, stale or missing observedGeneration does not', () => {
    assert.equal(staleCondition([{ type: 'A', status: 'True', observedGeneration: 2 }], 2, 'x'), undefined);
    assert.match(
      staleCondition([{ type: 'A', status: 'True', observedGeneration: 1 }], 2, 'x')!,
      /observedGeneration 1/,
    );
    assert.match(staleCondition([{ type: 'A', status: 'True' }], 1, 'x')!, /no observedGeneration/);
  });
  test('no conditions is current', () => {
    assert.equal(staleCondition([], 3, 'x'), undefined);
  });
});

describe('parentRefMatches', () => {
  const want = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'g', namespace: 'infra' };
  test('a missing status namespace defaults to the route namespace', () => {
    assert.ok(parentRefMatches(want, { group: want.group, kind: 'Gateway', name: 'g' }, 'infra'));
    assert.ok(!parentRefMatches(want, { group: want.group, kind: 'Gateway', name: 'g' }, 'other'));
  });
  test('namespaceRequired disables the defaulting', () => {
    assert.ok(!parentRefMatches(want, { group: want.group, kind: 'Gateway', name: 'g' }, 'infra', true));
    assert.ok(parentRefMatches(want, { group: want.group, kind: 'Gateway', name: 'g', namespace: 'infra' }, 'x', true));
  });
  test('group and kind, when expected, must be written in the status', () => {
    assert.ok(!parentRefMatches(want, { kind: 'Gateway', name: 'g', namespace: 'infra' }, 'infra'));
    assert.ok(!parentRefMatches(want, { group: want.group, name: 'g', namespace: 'infra' }, 'infra'));
    assert.ok(parentRefMatches({ name: 'g' }, { name: 'g' }, 'infra'));
  });
  test('sectionName and port compared when expected', () => {
    assert.ok(!parentRefMatches({ name: 'g', sectionName: 'http' }, { name: 'g' }, 'ns'));
    assert.ok(parentRefMatches({ name: 'g', sectionName: 'http' }, { name: 'g', sectionName: 'http' }, 'ns'));
    assert.ok(!parentRefMatches({ name: 'g', port: 80 }, { name: 'g', port: 81 }, 'ns'));
    assert.ok(parentRefMatches({ name: 'g' }, { name: 'g', sectionName: 'http', port: 80 }, 'ns'));
  });
});

test('ancestorRefMatches: name equal, namespace missing or equal', () => {
  assert.ok(ancestorRefMatches({ name: 'g', namespace: 'a' }, { name: 'g' }));
  assert.ok(ancestorRefMatches({ name: 'g', namespace: 'a' }, { name: 'g', namespace: 'a' }));
  assert.ok(!ancestorRefMatches({ name: 'g', namespace: 'a' }, { name: 'g', namespace: 'b' }));
  assert.ok(!ancestorRefMatches({ name: 'g', namespace: 'a' }, { name: 'h' }));
});

test('assign finds a one-to-one matching when one exists', () => {
  // e0 fits a0 and a1, e1 fits only a0: greedy would fail, matching must not.
  const fits = (e: number, a: number) => (e === 0 ? true : a === 0);
  assert.deepEqual(assign(2, 2, fits), [1, 0]);
  assert.deepEqual(
    assign(2, 1, () => true),
    [0, -1],
  );
});

describe('matchListeners', () => {
  const http = {
    name: 'http',
    attachedRoutes: 1,
    supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { kind: 'GRPCRoute' }],
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
  };
  test('attachedRoutes is exact', () => {
    assert.equal(matchListeners([{ name: 'http', attachedRoutes: 1 }], [http], false, false), undefined);
    assert.match(matchListeners([{ name: 'http', attachedRoutes: 2 }], [http], false, false)!, /want 2, got 1/);
  });
  test('supportedKinds: listed kinds must appear, a missing group is the Gateway API group', () => {
    assert.equal(
      matchListeners([{ name: 'http', supportedKinds: [{ kind: 'GRPCRoute' }] }], [http], false, false),
      undefined,
    );
    assert.match(
      matchListeners([{ name: 'http', supportedKinds: [{ kind: 'TLSRoute' }] }], [http], false, false)!,
      /TLSRoute missing/,
    );
  });
  test('supportedKinds [] means the status list must be empty', () => {
    assert.match(matchListeners([{ name: 'http', supportedKinds: [] }], [http], false, false)!, /want \[\]/);
    assert.equal(matchListeners([{ name: 'http', supportedKinds: [] }], [{ name: 'http' }], false, false), undefined);
    assert.equal(
      matchListeners([{ name: 'http', supportedKinds: [] }], [{ name: 'http', supportedKinds: [] }], false, false),
      undefined,
    );
  });
  test('exactListeners counts, allowEmptyListeners accepts no entries', () => {
    const other = { name: 'other' };
    assert.equal(matchListeners([{ name: 'http' }], [http, other], false, false), undefined);
    assert.match(matchListeners([{ name: 'http' }], [http, other], true, false)!, /exactly 1 listener/);
    assert.match(matchListeners([{ name: 'http', attachedRoutes: 0 }], [], true, false)!, /missing/);
    assert.equal(matchListeners([{ name: 'http', attachedRoutes: 0 }], [], true, true), undefined);
  });
  test('listener conditions', () => {
    assert.match(
      matchListeners(
        [{ name: 'http', conditions: [{ type: 'Programmed', status: 'True', reason: '*' }] }],
        [http],
        false,
        false,
      )!,
      /listener http condition Programmed missing/,
    );
  });
});

describe('matchAddresses', () => {
  const addrs = [{ type: 'IPAddress', value: '127.0.1.200' }];
  test('exactCount, contains (type only when given), notContains', () => {
    assert.equal(
      matchAddresses(
        { exactCount: 1, contains: [{ value: '127.0.1.200', type: 'IPAddress' }], notContains: ['192.0.2.1'] },
        addrs,
      ),
      undefined,
    );
    assert.equal(matchAddresses({ contains: [{ value: '127.0.1.200' }] }, addrs), undefined);
    assert.match(matchAddresses({ contains: [{ value: '127.0.1.200', type: 'Hostname' }] }, addrs)!, /missing/);
    assert.match(matchAddresses({ exactCount: 2 }, addrs)!, /exactly 2/);
    assert.match(matchAddresses({ notContains: ['127.0.1.200'] }, addrs)!, /must not/);
  });
});

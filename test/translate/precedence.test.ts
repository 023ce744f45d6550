import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareMatchPrecedence,
  compareRouteAge,
  type GRPCMatchPrecedence,
  type HTTPMatchPrecedence,
  type MatchPrecedence,
} from '../../src/translate/precedence.ts';

const route = (name: string, creationTimestamp?: string, namespace = 'ns') => ({ namespace, name, creationTimestamp });

function http(m: Partial<HTTPMatchPrecedence>, r = route('r'), ruleIndex = 0, matchIndex = 0): MatchPrecedence {
  return {
    match: {
      kind: 'HTTPRoute',
      pathType: 'PathPrefix',
      pathLength: 1,
      method: false,
      headers: 0,
      queryParams: 0,
      ...m,
    },
    route: r,
    ruleIndex,
    matchIndex,
  };
}

function grpc(m: Partial<GRPCMatchPrecedence>, r = route('r'), ruleIndex = 0): MatchPrecedence {
  return {
    match: { kind: 'GRPCRoute', serviceChars: 0, methodChars: 0, regex: false, headers: 0, ...m },
    route: r,
    ruleIndex,
    matchIndex: 0,
  };
}

function order(items: Array<[string, MatchPrecedence]>): string[] {
  return [...items].sort((a, b) => compareMatchPrecedence(a[1], b[1])).map(([k]) => k);
}

test('HTTP: Exact, then RegularExpression, then the longest PathPrefix', () => {
  assert.deepEqual(
    order([
      ['prefix /', http({ pathType: 'PathPrefix', pathLength: 1 })],
      ['prefix /abc', http({ pathType: 'PathPrefix', pathLength: 4 })],
      ['regex', http({ pathType: 'RegularExpression', pathLength: 8 })],
      ['exact /a', http({ pathType: 'Exact', pathLength: 2 })],
    ]),
    ['exact /a', 'regex', 'prefix /abc', 'prefix /'],
  );
});

test('HTTP: method, then more headers, then more query params', () => {
  assert.deepEqual(
    order([
      ['plain', http({})],
      ['2 query', http({ queryParams: 2 })],
      ['1 header', http({ headers: 1, queryParams: 0 })],
      ['3 headers', http({ headers: 3 })],
      ['method', http({ method: true })],
    ]),
    ['method', '3 headers', '1 header', '2 query', 'plain'],
  );
});

test('HTTP ties: oldest route, then namespace/name, then rule, then match order', () => {
  assert.deepEqual(
    order([
      ['b new', http({}, route('b', '2024-01-02T00:00:00Z'))],
      ['a new', http({}, route('a', '2024-01-02T00:00:00Z'))],
      ['z old', http({}, route('z', '2024-01-01T00:00:00Z'))],
      ['a new rule 1', http({}, route('a', '2024-01-02T00:00:00Z'), 1, 0)],
      ['a new rule 0 match 1', http({}, route('a', '2024-01-02T00:00:00Z'), 0, 1)],
    ]),
    ['z old', 'a new', 'a new rule 0 match 1', 'a new rule 1', 'b new'],
  );
});

test('compareRouteAge: namespace sorts before name; no timestamp counts as oldest', () => {
  assert.ok(compareRouteAge(route('x', undefined, 'a'), route('a', undefined, 'b')) < 0);
  assert.ok(compareRouteAge(route('x'), route('a', '2024-01-01T00:00:00Z')) < 0);
});

test('GRPC: service characters, then method characters (exact first), then headers', () => {
  assert.deepEqual(
    order([
      ['all', grpc({})],
      ['method only', grpc({ methodChars: 4 })],
      ['service', grpc({ serviceChars: 10 })],
      ['service+method', grpc({ serviceChars: 10, methodChars: 4 })],
      ['service+method regex', grpc({ serviceChars: 10, methodChars: 4, regex: true })],
      ['longer service', grpc({ serviceChars: 12 })],
      ['service+header', grpc({ serviceChars: 10, headers: 1 })],
    ]),
    ['longer service', 'service+method', 'service+method regex', 'service+header', 'service', 'method only', 'all'],
  );
});

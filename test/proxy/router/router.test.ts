import { DataPlaneMetrics } from '../../../src/observability/metrics/data-plane-metrics.ts';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HTTPRouteIR, IR, ListenerIR } from '../../../src/ir/types.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { compileConfig } from '../../../src/proxy/compile/compile-config.ts';
import type { CompiledRoute } from '../../../src/proxy/compile/compiled-route.ts';
import { matchHost, parseQuery } from '../../../src/proxy/http/request-context.ts';
import type { ProxyRuntime } from '../../../src/proxy/http/runtime.ts';
import { DEFAULT_TUNING } from '../../../src/proxy/http/tuning.ts';
import { HostTable } from '../../../src/proxy/router/host-table.ts';
import { UpstreamRegistry } from '../../../src/proxy/upstream/registry.ts';
import { gateway, listener, route } from '../helpers.ts';

const runtime: ProxyRuntime = {
  tuning: DEFAULT_TUNING,
  log: createLogger('silent'),
  upstreams: new UpstreamRegistry(DEFAULT_TUNING),
  mirrorsInFlight: 0,
  metrics: new DataPlaneMetrics(false),
};

function table(listeners: ListenerIR[]) {
  const ir: IR = { gateways: [gateway(listeners)] };
  const c = compileConfig(ir, 0, runtime);
  assert.deepEqual(c.errors, []);
  assert.equal(c.sockets.size, 1);
  return [...c.sockets.values()][0].table;
}

interface Probe {
  host?: string;
  path?: string;
  method?: string;
  headers?: string[];
}

function routeName(t: ReturnType<typeof table>, p: Probe): string | null {
  const url = p.path ?? '/';
  const q = url.indexOf('?');
  const params = parseQuery(q === -1 ? '' : url.slice(q));
  const r: CompiledRoute | null = t.route({
    host: matchHost(p.host ?? 'example.com'),
    path: q === -1 ? url : url.slice(0, q),
    method: p.method ?? 'GET',
    rawHeaders: p.headers ?? [],
    queryParam: (n) => params.get(n),
  });
  return r === null ? null : r.name;
}

const named = (name: string, partial: Partial<HTTPRouteIR>): HTTPRouteIR => route({ ...partial, name });

describe('HostTable', () => {
  test('exact, then longest wildcard suffix, then catch-all', () => {
    const h = new HostTable<string>();
    h.add('*.example.com', 'wild');
    h.add('*.a.example.com', 'wild-a');
    h.add('foo.example.com', 'exact');
    h.add('*', 'any');
    assert.equal(h.lookup('foo.example.com'), 'exact');
    assert.equal(h.lookup('bar.example.com'), 'wild');
    assert.equal(h.lookup('x.y.example.com'), 'wild');
    assert.equal(h.lookup('x.a.example.com'), 'wild-a');
    assert.equal(h.lookup('example.com'), 'any');
    assert.equal(h.lookup('other.org'), 'any');
    assert.equal(h.add('FOO.example.com', 'dup'), false);
  });

  test('without a catch-all, unknown hosts miss', () => {
    const h = new HostTable<string>();
    h.add('*.example.com', 'wild');
    assert.equal(h.lookup('example.com'), undefined);
    assert.equal(h.lookup('.example.com'), undefined);
  });

  test('matchHost strips ports, lower-cases, keeps IPv6 brackets', () => {
    assert.equal(matchHost('Example.COM:8080'), 'example.com');
    assert.equal(matchHost('[::1]:8080'), '[::1]');
    assert.equal(matchHost('[::1]'), '[::1]');
    assert.equal(matchHost('example.com.'), 'example.com');
    assert.equal(matchHost(''), '');
  });
});

describe('path matching', () => {
  const t = table([
    listener('http', [
      named('exact', { path: { type: 'Exact', value: '/exact' } }),
      named('prefix', { path: { type: 'PathPrefix', value: '/foo' } }),
      named('slash-prefix', { path: { type: 'PathPrefix', value: '/bar/' } }),
      named('regex', { path: { type: 'RegularExpression', value: '/v[0-9]+/items' } }),
    ]),
  ]);

  test('Exact matches the whole path only', () => {
    assert.equal(routeName(t, { path: '/exact' }), 'exact');
    assert.equal(routeName(t, { path: '/exact?x=1' }), 'exact');
    assert.equal(routeName(t, { path: '/exact/' }), null);
    assert.equal(routeName(t, { path: '/exactly' }), null);
  });

  test('PathPrefix is segment-wise', () => {
    assert.equal(routeName(t, { path: '/foo' }), 'prefix');
    assert.equal(routeName(t, { path: '/foo/' }), 'prefix');
    assert.equal(routeName(t, { path: '/foo/bar' }), 'prefix');
    assert.equal(routeName(t, { path: '/foobar' }), null);
    // A trailing slash in the prefix is ignored, like Envoy's path_separated_prefix.
    assert.equal(routeName(t, { path: '/bar' }), 'slash-prefix');
    assert.equal(routeName(t, { path: '/bar/x' }), 'slash-prefix');
    assert.equal(routeName(t, { path: '/barx' }), null);
  });

  test('RegularExpression must match the full path (RE2)', () => {
    assert.equal(routeName(t, { path: '/v1/items' }), 'regex');
    assert.equal(routeName(t, { path: '/v12/items' }), 'regex');
    assert.equal(routeName(t, { path: '/v1/items/x' }), null);
    assert.equal(routeName(t, { path: '/x/v1/items' }), null);
  });

  test('an RE2-invalid regex (backreference) drops the entry with an error, others still serve', () => {
    const ir: IR = {
      gateways: [
        gateway([
          listener('http', [
            named('bad', { path: { type: 'RegularExpression', value: '(a)\\1' } }),
            named('good', { path: { type: 'PathPrefix', value: '/' } }),
          ]),
        ]),
      ],
    };
    const c = compileConfig(ir, 0, runtime);
    assert.equal(c.errors.length, 1);
    assert.match(c.errors[0], /route bad: path: invalid regular expression/);
    const tt = [...c.sockets.values()][0].table;
    assert.equal(routeName(tt, { path: '/aa' }), 'good');
  });
});

describe('headers, query parameters, method', () => {
  const t = table([
    listener('http', [
      named('two-headers', {
        headers: [
          { name: 'Version', type: 'Exact', value: 'two' },
          { name: 'color', type: 'Exact', value: 'orange' },
        ],
      }),
      named('version-one', { headers: [{ name: 'version', type: 'Exact', value: 'one' }] }),
      named('color-re', { headers: [{ name: 'color', type: 'RegularExpression', value: 're(d|ally)' }] }),
      named('query', { queryParams: [{ name: 'animal', type: 'Exact', value: 'whale' }] }),
      named('query-re', { queryParams: [{ name: 'n', type: 'RegularExpression', value: '[0-9]+' }] }),
      named('post', { method: 'POST', path: { type: 'Exact', value: '/m' } }),
    ]),
  ]);

  test('header names are case-insensitive, values exact', () => {
    assert.equal(routeName(t, { headers: ['VERSION', 'one'] }), 'version-one');
    assert.equal(routeName(t, { headers: ['version', 'One'] }), null);
    assert.equal(routeName(t, { headers: ['Version', 'two', 'Color', 'orange'] }), 'two-headers');
    assert.equal(routeName(t, { headers: ['Version', 'two'] }), null);
  });

  test('header regex is a full match; repeated headers are matched joined with a comma', () => {
    assert.equal(routeName(t, { headers: ['color', 'red'] }), 'color-re');
    assert.equal(routeName(t, { headers: ['color', 'redder'] }), null);
    assert.equal(routeName(t, { headers: ['version', 'one', 'version', 'two'] }), null);
  });

  test('query parameters: exact names, decoded first value', () => {
    assert.equal(routeName(t, { path: '/?animal=whale' }), 'query');
    assert.equal(routeName(t, { path: '/?x=1&animal=wh%61le' }), 'query');
    assert.equal(routeName(t, { path: '/?ANIMAL=whale' }), null);
    assert.equal(routeName(t, { path: '/?animal=whaledolphin' }), null);
    assert.equal(routeName(t, { path: '/?animal=whale&animal=dolphin' }), 'query');
    assert.equal(routeName(t, { path: '/?n=42' }), 'query-re');
    assert.equal(routeName(t, { path: '/?n=4a' }), null);
  });

  test('method', () => {
    assert.equal(routeName(t, { path: '/m', method: 'POST' }), 'post');
    assert.equal(routeName(t, { path: '/m', method: 'GET' }), null);
  });
});

describe('precedence and hosts', () => {
  test('the IR order decides: first match wins', () => {
    const t = table([
      listener('http', [
        named('long', { path: { type: 'PathPrefix', value: '/a/b' } }),
        named('short', { path: { type: 'PathPrefix', value: '/a' } }),
        named('all', { path: { type: 'PathPrefix', value: '/' } }),
      ]),
    ]);
    assert.equal(routeName(t, { path: '/a/b/c' }), 'long');
    assert.equal(routeName(t, { path: '/a/c' }), 'short');
    assert.equal(routeName(t, { path: '/z' }), 'all');
  });

  test('virtual hosts: exact, wildcard, catch-all, no fallback to a less specific one', () => {
    const t = table([
      listener('http', [
        named('exact', { hostname: 'foo.example.com', path: { type: 'Exact', value: '/only' } }),
        named('wild', { hostname: '*.example.com' }),
        named('any', { hostname: '*' }),
      ]),
    ]);
    assert.equal(routeName(t, { host: 'foo.example.com', path: '/only' }), 'exact');
    // foo.example.com has its own virtual host: no route there for /other → 404, not the wildcard.
    assert.equal(routeName(t, { host: 'foo.example.com', path: '/other' }), null);
    assert.equal(routeName(t, { host: 'Bar.Example.com:8080', path: '/x' }), 'wild');
    assert.equal(routeName(t, { host: 'example.com' }), 'any');
    assert.equal(routeName(t, { host: '[::1]:80' }), 'any');
  });

  test('listener isolation: the most specific listener hostname wins, even without a matching route', () => {
    const t = table([
      listener('empty', [named('empty-any', { hostname: '*', path: { type: 'Exact', value: '/x' } })]),
      listener('wild', [named('wild', { hostname: '*.example.com' })], { hostname: '*.example.com' }),
      listener('exact', [named('exact', { hostname: 'foo.example.com', path: { type: 'Exact', value: '/e' } })], {
        hostname: 'foo.example.com',
      }),
    ]);
    assert.equal(routeName(t, { host: 'foo.example.com', path: '/e' }), 'exact');
    assert.equal(routeName(t, { host: 'foo.example.com', path: '/f' }), null);
    assert.equal(routeName(t, { host: 'bar.example.com', path: '/f' }), 'wild');
    assert.equal(routeName(t, { host: 'other.org', path: '/x' }), 'empty-any');
    assert.equal(routeName(t, { host: 'other.org', path: '/y' }), null);
  });

  test('listeners of one gateway on one port share a socket; another address gets its own', () => {
    const ir: IR = {
      gateways: [
        gateway([listener('a', [], { hostname: 'a.com' }), listener('b', [], { hostname: 'b.com' })]),
        gateway([listener('c', [])], { name: 'gw2', addresses: ['127.0.0.2'] }),
        gateway([listener('tls', [], { protocol: 'TLS' })], { name: 'gw3' }),
      ],
    };
    const c = compileConfig(ir, 1000, runtime);
    assert.deepEqual(
      [...c.sockets.values()].map((s) => [s.address, s.boundPort, s.listeners]),
      [
        ['127.0.0.1', 1000, ['default/gw/a', 'default/gw/b']],
        ['127.0.0.2', 1000, ['default/gw/c']],
      ],
    );
    // TLS (like TCP and UDP) is compiled by src/proxy/l4/, not here.
    assert.deepEqual(c.errors, []);
  });
});

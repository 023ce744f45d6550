import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RedirectIR } from '../../../src/ir/types.ts';
import { compilePathModifier } from '../../../src/proxy/filters/path-modifier.ts';
import {
  backend,
  endpointsOf,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

describe('ReplacePrefixMatch (the table of the HTTPPathModifier docs)', () => {
  const table: Array<[string, string, string, string]> = [
    ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
    ['/foo', '/foo', '/xyz', '/xyz'],
    ['/foo/', '/foo', '/xyz', '/xyz/'],
    ['/foo/bar', '/foo', '', '/bar'],
    ['/foo/', '/foo', '', '/'],
    ['/foo', '/foo', '', '/'],
    ['/foo/', '/foo', '/', '/'],
    ['/foo', '/foo', '/', '/'],
    ['/strip-prefix', '/strip-prefix', '/', '/'],
    ['/prefix/one/two', '/prefix/one', '/one', '/one/two'],
    ['/anything', '/', '/new', '/new/anything'],
  ];
  for (const [path, prefix, replacement, expected] of table) {
    test(`${path} with prefix ${prefix} → ${JSON.stringify(replacement)} = ${expected}`, () => {
      const m = compilePathModifier(
        { type: 'ReplacePrefixMatch', value: replacement },
        { type: 'PathPrefix', value: prefix },
        't',
      );
      assert.equal(m(path), expected);
    });
  }

  test('ReplacePrefixMatch on a non-prefix match is a compile error', () => {
    assert.throws(() =>
      compilePathModifier({ type: 'ReplacePrefixMatch', value: '/x' }, { type: 'Exact', value: '/a' }, 'where'),
    );
  });
});

describe('RequestRedirect', () => {
  let plane: RunningPlane;
  let origin: Origin;

  const redirect = (path: string, r: Partial<RedirectIR>) =>
    route({
      path: { type: 'PathPrefix', value: path },
      filters: [{ type: 'RequestRedirect', redirect: { statusCode: 302, ...r } }],
    });

  before(async () => {
    origin = await startOrigin();
    plane = await startPlane(
      simpleIR([
        redirect('/original-prefix', { path: { type: 'ReplacePrefixMatch', value: '/replacement-prefix' } }),
        redirect('/full', { path: { type: 'ReplaceFullPath', value: '/full-path-replacement' } }),
        redirect('/host-and-status', { hostname: 'example.org', statusCode: 301 }),
        redirect('/scheme', { scheme: 'https' }),
        redirect('/port', { port: 8083 }),
        redirect('/https-443', { scheme: 'https', port: 443 }),
        redirect('/http-80', { port: 80 }),
        redirect('/s303', { statusCode: 303 }),
        route({
          path: { type: 'PathPrefix', value: '/backend-level' },
          backends: [
            backend('x', endpointsOf(origin.port), {
              filters: [
                {
                  type: 'RequestRedirect',
                  redirect: { statusCode: 307, path: { type: 'ReplacePrefixMatch', value: '/moved' } },
                },
              ],
            }),
          ],
        }),
      ]),
    );
  });
  after(async () => {
    await plane.close();
    await origin.close();
  });

  const go = async (path: string, host = 'example.com') => {
    const r = await request(plane.port, { path, host });
    return { status: r.status, location: r.headers.location };
  };

  test('path: prefix replaced, query kept; full path', async () => {
    assert.deepEqual(await go('/original-prefix/lemon?x=1'), {
      status: 302,
      location: `http://example.com:${plane.port}/replacement-prefix/lemon?x=1`,
    });
    assert.equal((await go('/full/path/original')).location, `http://example.com:${plane.port}/full-path-replacement`);
  });

  test('without port and scheme the listener port is kept (even if Host names another)', async () => {
    assert.deepEqual(await go('/host-and-status', 'example.com:9999'), {
      status: 301,
      location: `http://example.org:${plane.port}/host-and-status`,
    });
  });

  test('a scheme alone drops the port (its default)', async () => {
    assert.equal((await go('/scheme')).location, 'https://example.com/scheme');
  });

  test('an explicit port is kept unless it is the default of the scheme', async () => {
    assert.equal((await go('/port')).location, 'http://example.com:8083/port');
    assert.equal((await go('/https-443')).location, 'https://example.com/https-443');
    assert.equal((await go('/http-80')).location, 'http://example.com/http-80');
  });

  test('status codes', async () => {
    assert.equal((await go('/s303')).status, 303);
  });

  test('a redirect on a backendRef answers for that backend', async () => {
    assert.deepEqual(await go('/backend-level/a'), {
      status: 307,
      location: `http://example.com:${plane.port}/moved/a`,
    });
    assert.equal(origin.seen.length, 0);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { URLRewriteIR } from '../../../src/ir/types.ts';
import {
  backend,
  endpointsOf,
  json,
  request,
  route,
  simpleIR,
  startOrigin,
  startPlane,
  type Origin,
  type RunningPlane,
} from '../helpers.ts';

describe('URLRewrite', () => {
  let origin: Origin;
  let plane: RunningPlane;

  before(async () => {
    origin = await startOrigin();
    const to = [backend('echo', endpointsOf(origin.port))];
    const rewrite = (path: string, rw: URLRewriteIR) =>
      route({
        path: { type: 'PathPrefix', value: path },
        filters: [{ type: 'URLRewrite', rewrite: rw }],
        backends: to,
      });
    plane = await startPlane(
      simpleIR([
        rewrite('/prefix/one', { path: { type: 'ReplacePrefixMatch', value: '/one' } }),
        rewrite('/strip-prefix', { path: { type: 'ReplacePrefixMatch', value: '/' } }),
        rewrite('/full/one', { path: { type: 'ReplaceFullPath', value: '/one' } }),
        rewrite('/host', { hostname: 'one.example.org' }),
        rewrite('/regex', {
          path: { type: 'RegexReplace', pattern: '^/regex/([^/]+)/(.*)$', substitution: '/\\2/of/\\1' },
        }),
        rewrite('/from-header', { hostFromHeader: 'x-target-host' }),
        rewrite('/from-backend', { hostFromBackend: true }),
        route({
          path: { type: 'PathPrefix', value: '/backend-level' },
          backends: [
            backend('echo', endpointsOf(origin.port), {
              filters: [
                { type: 'URLRewrite', rewrite: { path: { type: 'ReplacePrefixMatch', value: '/rewritten-prefix' } } },
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

  const seen = async (path: string, headers: Record<string, string> = {}) =>
    json(await request(plane.port, { path, headers }));

  test('ReplacePrefixMatch, with the trailing-slash cases', async () => {
    assert.equal((await seen('/prefix/one/two')).url, '/one/two');
    assert.equal((await seen('/strip-prefix/three')).url, '/three');
    assert.equal((await seen('/strip-prefix')).url, '/');
    assert.equal((await seen('/strip-prefix?q=1')).url, '/?q=1');
  });

  test('ReplaceFullPath keeps the query', async () => {
    assert.equal((await seen('/full/one/two?a=b')).url, '/one?a=b');
  });

  test('hostname', async () => {
    const s = await seen('/host');
    assert.equal(s.headers.host, 'one.example.org');
    assert.equal(s.url, '/host');
  });

  test('RegexReplace with RE2 \\N groups', async () => {
    assert.equal((await seen('/regex/a/b/c')).url, '/b/c/of/a');
  });

  test('host from a request header, from the backend endpoint', async () => {
    assert.equal((await seen('/from-header', { 'x-target-host': 'picked.example' })).headers.host, 'picked.example');
    assert.equal((await seen('/from-header')).headers.host, 'example.com');
    assert.equal((await seen('/from-backend')).headers.host, '127.0.0.1');
  });

  test('a rewrite on a backendRef', async () => {
    assert.equal((await seen('/backend-level/original')).url, '/rewritten-prefix/original');
  });
});

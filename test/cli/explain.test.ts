/** `sluice explain` as a user runs it, on the shipped examples. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Explanation } from '../../src/explain/index.ts';
import { root } from '../support/serve.ts';

function sluice(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'explain', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('canary: the rule, both backends with weights 90/10', () => {
  const r = sluice('--config', 'examples/canary', 'GET http://prodapps.com:8081/prodapps');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Gateway default\/web on 0\.0\.0\.0:8081 \(HTTP\)$/m);
  assert.match(r.stdout, /^ {2}route {6}HTTPRoute default\/prodapps rule 0 match 0$/m);
  assert.match(r.stdout, /^ {2}answer {5}proxied to one of 2 backends by weight$/m);
  assert.match(r.stdout, /^ +10% {2}Service\/default\/canary-service:80 weight 10, http → 127\.0\.0\.1:19112$/m);
  assert.match(r.stdout, /^ +90% {2}Service\/default\/primary-service:80 weight 90, http → 127\.0\.0\.1:19111$/m);

  const json = sluice('--config', 'examples/canary', 'GET http://prodapps.com:8081/prodapps', '--output', 'json');
  assert.equal(json.code, 0, json.stderr);
  const x = JSON.parse(json.stdout) as Explanation;
  assert.equal(x.paths.length, 1);
  assert.deepEqual(
    x.paths[0].backends.map((b) => [b.ref.name, b.weight, b.percent]),
    [
      ['canary-service', 10, 10],
      ['primary-service', 90, 90],
    ],
  );
});

test('canary: a path outside the prefix is a 404 that names the failed match', () => {
  const r = sluice('--config', 'examples/canary', 'http://prodapps.com:8081/prodapps-old');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}answer {5}404: no route entry of virtual host prodapps\.com matches$/m);
  assert.match(r.stdout, /path "\/prodapps-old" is not PathPrefix \/prodapps/);
});

test('geo-routing: x-geo-region europe picks the europe rule; the default rule lost on precedence', () => {
  const r = sluice(
    '--config',
    'examples/geo-routing',
    'GET http://store.example.com:8087/',
    '-H',
    'x-geo-region: europe',
    '-o',
    'json',
  );
  assert.equal(r.code, 0, r.stderr);
  const p = (JSON.parse(r.stdout) as Explanation).paths[0];
  assert.equal(p.route?.ruleIndex, 1);
  assert.deepEqual(
    p.backends.map((b) => b.name),
    ['Service/default/europe-service:80'],
  );
  assert.deepEqual(
    p.entries.map((e) => [e.ruleIndex, e.verdict]),
    [
      [0, 'no-match'],
      [1, 'selected'],
      [2, 'no-match'],
      [3, 'lower-precedence'],
    ],
  );
  assert.deepEqual(p.entries[0].mismatches, [
    { on: 'header', name: 'x-geo-region', want: 'Exact "africa"', got: 'europe' },
  ]);
  assert.equal(
    p.entries[3].reason,
    'lower precedence than HTTPRoute default/store rule 1 match 0: more header matches (1 vs 0)',
  );

  const text = sluice(
    '--config',
    'examples/geo-routing',
    'GET http://store.example.com:8087/',
    '-H',
    'x-geo-region: europe',
  );
  assert.match(
    text.stdout,
    /also matches HTTPRoute default\/store rule 3 match 0: PathPrefix \/\n +lower precedence than HTTPRoute default\/store rule 1 match 0: more header matches \(1 vs 0\)/,
  );
});

test('bad input: one line on stderr, exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['GET prodapps.com/prodapps'], /^sluice: cannot parse URL "prodapps\.com\/prodapps"/],
    [['GET http://prodapps.com/', '-H', 'x-user beta'], /^sluice: bad header "x-user beta": expected "Name: value"/],
    [['GET http://prodapps.com/', '--port', 'http'], /^sluice: bad port "http"/],
    [['GET http://prodapps.com/', '--output', 'xml'], /^sluice: --output must be one of text, json/],
    [[], /^sluice: a request is required/],
  ];
  for (const [args, message] of cases) {
    const r = sluice('--config', 'examples/canary', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  }
});

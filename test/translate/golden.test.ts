/**
 * Golden tests: each `testdata/<name>.in.yaml` is loaded like a config
 * directory (admission included), translated, and compared with
 * `<name>.out.yaml` (problems, IR and status). `UPDATE_GOLDEN=1 npm test`
 * rewrites the .out files; review the diff like code.
 *
 * An input may start with `# options: {...}` (JSON) to set translate options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadObjects } from '../../src/providers/file/loader.ts';
import { formatProblem } from '../../src/providers/snapshot.ts';
import { translate, type TranslateOptions } from '../../src/translate/index.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const update = process.env.UPDATE_GOLDEN === '1';

function render(name: string, text: string): string {
  const header = /^# options: (.*)$/m.exec(text);
  const options: Partial<TranslateOptions> = {
    now: '2026-01-01T00:00:00Z',
    ...(header ? (JSON.parse(header[1]) as Partial<TranslateOptions>) : {}),
  };
  const loaded = loadObjects([{ text, file: `${name}.in.yaml` }]);
  const result = translate(loaded.snapshot, options);
  const status = [...result.status]
    .sort((a, b) => `${a.kind}/${a.namespace}/${a.name}`.localeCompare(`${b.kind}/${b.namespace}/${b.name}`))
    .map((e) => ({ kind: e.kind, ...(e.namespace ? { namespace: e.namespace } : {}), name: e.name, status: e.status }));
  return stringify(
    { problems: loaded.problems.map(formatProblem), ir: result.ir, status },
    { lineWidth: 0, aliasDuplicateObjects: false },
  );
}

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.in.yaml'))
  .sort()) {
  const name = file.slice(0, -'.in.yaml'.length);
  test(`golden: ${name}`, () => {
    const got = render(name, readFileSync(join(dir, file), 'utf8'));
    const outPath = join(dir, `${name}.out.yaml`);
    if (update || !existsSync(outPath)) {
      writeFileSync(outPath, got);
      if (!update) assert.fail(`${name}.out.yaml was missing; written now, review it and re-run`);
      return;
    }
    assert.equal(got, readFileSync(outPath, 'utf8'), `${name}: output differs (UPDATE_GOLDEN=1 to accept)`);
  });
}

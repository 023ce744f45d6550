import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocuments } from '../../../src/providers/file/parse.ts';
import { formatProblem } from '../../../src/providers/snapshot.ts';

test('a malformed document is one problem; the other documents still parse', () => {
  const text = ['kind: A', '---', 'kind: B', '  bad: indent', 'x: [', '---', 'kind: C', ''].join('\n');
  const r = parseDocuments(text, 'multi.yaml');
  assert.deepEqual(r.documents, [
    { value: { kind: 'A' }, doc: 0 },
    { value: { kind: 'C' }, doc: 2 },
  ]);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].doc, 1);
  assert.match(formatProblem(r.problems[0]), /^multi\.yaml#1: YAML: .* at line 3, column 7/);
});

test('empty documents and comment-only files are skipped', () => {
  assert.deepEqual(parseDocuments('# nothing here\n', 'a.yaml'), { documents: [], problems: [], warnings: [] });
  const r = parseDocuments('---\nkind: A\n---\n---\n# c\n', 'a.yaml');
  assert.deepEqual(r.documents, [{ value: { kind: 'A' }, doc: 0 }]);
  assert.deepEqual(r.problems, []);
});

test('alias bombs and duplicate keys are rejected', () => {
  const bomb = [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  ].join('\n');
  const r = parseDocuments(`kind: ok\n---\n${bomb}\n`, 'bomb.yaml');
  assert.deepEqual(r.documents, [{ value: { kind: 'ok' }, doc: 0 }]);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].message, /alias/i);
  const dup = parseDocuments('kind: A\nkind: B\n', 'dup.yaml');
  assert.equal(dup.problems.length, 1);
  assert.match(dup.problems[0].message, /unique/i);
});

test('a JSON file is one document; JSON errors carry a position', () => {
  assert.deepEqual(parseDocuments('{"kind": "A"}', 'a.json').documents, [{ value: { kind: 'A' }, doc: 0 }]);
  const bad = parseDocuments('{\n  "kind": "A",\n}', 'bad.json');
  assert.equal(bad.problems.length, 1);
  assert.match(bad.problems[0].message, /^JSON: .*line 3/);
});

test('a List document expands into its items', () => {
  const text = 'apiVersion: v1\nkind: List\nitems:\n- kind: A\n- kind: B\n';
  assert.deepEqual(parseDocuments(text, 'list.yaml').documents, [
    { value: { kind: 'A' }, doc: 0, item: 0 },
    { value: { kind: 'B' }, doc: 0, item: 1 },
  ]);
  assert.deepEqual(parseDocuments('{"kind":"ServiceList","items":[{"kind":"Service"}]}', 'l.json').documents, [
    { value: { kind: 'Service' }, doc: 0, item: 0 },
  ]);
});

test('YAML 1.1 scalars that kubectl reads differently are warned about', () => {
  const r = parseDocuments('kind: A\nenabled: yes\nmode: 0755\nquoted: "on"\n', 'a.yaml');
  assert.deepEqual(r.documents, [{ value: { kind: 'A', enabled: 'yes', mode: 755, quoted: 'on' }, doc: 0 }]);
  assert.deepEqual(
    r.warnings.map((w) => formatProblem(w)),
    [
      'a.yaml#0: line 2: yes is read as "yes" (YAML 1.2) but kubectl reads it as the boolean true (YAML 1.1); quote it or write what you mean',
      'a.yaml#0: line 3: 0755 is read as 755 (YAML 1.2) but kubectl reads it as the octal number 493 (YAML 1.1); quote it or write what you mean',
    ],
  );
});

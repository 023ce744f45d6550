/**
 * Splits a config file into documents. Each YAML document parses on its own:
 * a syntax error is a problem for that document only and the others still
 * load. Alias bombs are rejected (yaml's alias expansion limit). A `.json`
 * file is one document; a `kind: List` document expands into its items.
 */
import { LineCounter, isScalar, parseAllDocuments, visit, type Document } from 'yaml';
import type { LoadProblem } from '../snapshot.ts';

export interface ParsedDocument {
  value: unknown;
  /** Zero-based document index in the file. */
  doc: number;
  /** Index in the document's `items` when the document is a List. */
  item?: number;
}

export interface ParsedDocuments {
  documents: ParsedDocument[];
  problems: LoadProblem[];
  /** Scalars that YAML 1.1 readers such as kubectl would read differently. */
  warnings: LoadProblem[];
}

/** yaml's default; a larger expansion is treated as an attack, not config. */
const MAX_ALIAS_COUNT = 100;

/** YAML 1.1 booleans (go-yaml v2, which kubectl uses); YAML 1.2 reads them as strings. */
const YAML11_BOOLEANS = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
/** `0755` is 493 in YAML 1.1 but 755 in YAML 1.2. */
const YAML11_OCTAL = /^[-+]?0[0-7]+$/;

function isListDocument(v: unknown): v is { kind: string; items: unknown[] } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}

function expand(value: unknown, doc: number, out: ParsedDocument[]): void {
  if (isListDocument(value)) value.items.forEach((item, i) => out.push({ value: item, doc, item: i }));
  else out.push({ value, doc });
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/:\s*$/, '');
}

function yaml11Warnings(doc: Document, file: string, index: number, lines: LineCounter): LoadProblem[] {
  const out: LoadProblem[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || !isScalar(node) || node.type !== 'PLAIN' || typeof node.source !== 'string') return;
      const src = node.source;
      let meaning: string | undefined;
      if (YAML11_BOOLEANS.test(src)) meaning = `the boolean ${/^(?:y|yes|on)$/i.test(src)}`;
      else if (YAML11_OCTAL.test(src)) meaning = `the octal number ${parseInt(src, 8)}`;
      if (!meaning) return;
      const { line } = lines.linePos(node.range?.[0] ?? 0);
      out.push({
        file,
        doc: index,
        message: `line ${line}: ${src} is read as ${JSON.stringify(node.toJSON())} (YAML 1.2) but kubectl reads it as ${meaning} (YAML 1.1); quote it or write what you mean`,
      });
    },
  });
  return out;
}

function parseJson(text: string, file: string): ParsedDocuments {
  const result: ParsedDocuments = { documents: [], problems: [], warnings: [] };
  if (text.trim() === '') return result;
  try {
    expand(JSON.parse(text), 0, result.documents);
  } catch (e) {
    let message = (e as Error).message;
    const pos = /at position (\d+)/.exec(message);
    if (pos && !/line \d+/.test(message)) {
      const before = text.slice(0, Number(pos[1])).split('\n');
      message += ` (line ${before.length} column ${before[before.length - 1].length + 1})`;
    }
    result.problems.push({ file, doc: 0, message: `JSON: ${message}` });
  }
  return result;
}

export function parseDocuments(text: string, file: string): ParsedDocuments {
  if (/\.json$/i.test(file)) return parseJson(text, file);
  const result: ParsedDocuments = { documents: [], problems: [], warnings: [] };
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  // An empty stream (only comments) yields no documents.
  if (!Array.isArray(docs)) return result;
  docs.forEach((doc, index) => {
    if (doc.errors.length) {
      // The first few errors locate the fault; later ones mostly echo it.
      const shown = doc.errors.slice(0, 3).map((e) => firstLine(e.message));
      result.problems.push({ file, doc: index, message: `YAML: ${shown.join('; ')}` });
      return;
    }
    for (const w of doc.warnings) result.warnings.push({ file, doc: index, message: `YAML: ${firstLine(w.message)}` });
    if (doc.contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      result.problems.push({ file, doc: index, message: `YAML: ${firstLine((e as Error).message)}` });
      return;
    }
    // An empty document (a trailing `---`) is skipped, as kubectl does.
    if (value === null || value === undefined) return;
    result.warnings.push(...yaml11Warnings(doc, file, index, lines));
    expand(value, index, result.documents);
  });
  return result;
}

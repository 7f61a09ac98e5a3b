// The import rules of docs/ARCHITECTURE.md, checked on the import lines of every src/**/*.ts (static imports,
// re-exports and dynamic import()), and the rule that error codes are sorted only by their table.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/errors/codes.js';

const SRC = path.resolve(import.meta.dirname, '../../src');

interface Edge {
  file: string;
  from: string;
  to: string;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The room of a path under src/: its first directory; src/errors.ts belongs to the errors room. */
function roomOf(abs: string): string {
  const [first] = path.relative(SRC, abs).split(path.sep);
  return first === 'errors.ts' || first === 'errors.js' ? 'errors' : first!;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*'([^']+)'|(?:^|\n)\s*import\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of tsFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(SRC + path.sep)) continue;
      const from = roomOf(file);
      const to = roomOf(target);
      if (from !== to) out.push({ file: path.relative(SRC, file), from, to });
    }
  }
  return out;
}

const all = edges();
const breaking = (ok: (e: Edge) => boolean) =>
  all
    .filter((e) => !ok(e))
    .map((e) => `${e.file} (${e.from}) imports ${e.to}`)
    .sort();

describe('architecture: import rules of docs/ARCHITECTURE.md', () => {
  it('reads the import lines (sanity: known edges are found)', () => {
    const has = (from: string, to: string) => all.some((e) => e.from === from && e.to === to);
    assert.ok(has('engine', 'states') && has('cli', 'engine') && has('jobs', 'errors'));
    assert.ok(has('cli', 'jobs'), 'dynamic import() lines are read too');
  });

  it('the errors room imports nothing of orch', () => {
    assert.deepEqual(
      breaking((e) => e.from !== 'errors'),
      [],
    );
  });

  it('the text room (tables, colour) imports nothing of orch', () => {
    assert.deepEqual(
      breaking((e) => e.from !== 'text'),
      [],
    );
  });

  it('shell and sql import only errors', () => {
    assert.deepEqual(
      breaking((e) => !['shell', 'sql'].includes(e.from) || e.to === 'errors'),
      [],
    );
  });

  it('nothing outside cli imports cli', () => {
    assert.deepEqual(
      breaking((e) => e.to !== 'cli'),
      [],
    );
  });

  it('engine imports neither jobs nor drift; jobs does not import drift', () => {
    assert.deepEqual(
      breaking((e) => !(e.from === 'engine' && ['jobs', 'drift'].includes(e.to))),
      [],
    );
    assert.deepEqual(
      breaking((e) => !(e.from === 'jobs' && e.to === 'drift')),
      [],
    );
  });

  it('transport imports no engine, states or jobs; lab is imported only by cli', () => {
    assert.deepEqual(
      breaking((e) => !(e.from === 'transport' && ['engine', 'states', 'jobs'].includes(e.to))),
      [],
    );
    assert.deepEqual(
      breaking((e) => e.to !== 'lab' || e.from === 'cli'),
      [],
    );
  });

  it('error codes are sorted only in src/errors/codes.ts (no second list of codes)', () => {
    const codes = new Set(Object.keys(ERROR_CODES));
    const lists: string[] = [];
    for (const file of tsFiles(SRC)) {
      if (file === path.join(SRC, 'errors', 'codes.ts')) continue;
      const text = readFileSync(file, 'utf8');
      // An array literal of two or more codes, or two `case 'CODE':` in a row.
      for (const m of text.matchAll(
        /\[\s*'([A-Z_]+)'\s*,\s*'([A-Z_]+)'|case '([A-Z_]+)':\s*case '([A-Z_]+)':/g,
      )) {
        const [a, b] = [m[1] ?? m[3]!, m[2] ?? m[4]!];
        if (codes.has(a) && codes.has(b)) lists.push(`${path.relative(SRC, file)}: ${m[0]}`);
      }
    }
    assert.deepEqual(lists, []);
  });
});

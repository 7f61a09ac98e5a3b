// The import rules of docs/ARCHITECTURE.md, checked on the import lines of every src/**/*.ts (static imports,
// re-exports and dynamic import()), and the rule that error codes are sorted only by their table.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/errors/codes.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const TEMPLATES = path.resolve(import.meta.dirname, '../../templates');

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

  it('engine imports neither jobs nor drift; drift does not import jobs (jobs holds the drift job kind)', () => {
    assert.deepEqual(
      breaking((e) => !(e.from === 'engine' && ['jobs', 'drift'].includes(e.to))),
      [],
    );
    assert.deepEqual(
      breaking((e) => !(e.from === 'drift' && e.to === 'jobs')),
      [],
    );
  });

  it('states never import engine (the framing types live in shell)', () => {
    assert.deepEqual(
      breaking((e) => !(e.from === 'states' && e.to === 'engine')),
      [],
    );
  });

  it('every job kind is registered in src/jobs/kinds.ts and only there', () => {
    const kinds = readFileSync(path.join(SRC, 'jobs', 'kinds.ts'), 'utf8');
    const defined: string[] = [];
    for (const file of tsFiles(SRC)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/export const (\w+Kind): JobKind</g))
        defined.push(m[1]!);
    }
    assert.ok(defined.length >= 3, `kinds found: ${defined.join(', ')}`);
    const listed = /JOB_KINDS[^=]*=\s*\[([^\]]*)\]/.exec(kinds)?.[1] ?? '';
    assert.deepEqual(
      defined.filter(
        (k) =>
          !listed
            .split(',')
            .map((w) => w.trim())
            .includes(k),
      ),
      [],
      'a kind defined but not registered is a verb no worker can run',
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

  it('the PostgreSQL connector (pg) imports no states, engine, jobs or drift; the OS layer only errors and shell', () => {
    assert.deepEqual(
      breaking((e) => !(e.from === 'pg' && ['states', 'engine', 'jobs', 'drift'].includes(e.to))),
      [],
    );
    assert.deepEqual(
      breaking(
        (e) => !e.file.startsWith(`facts${path.sep}os${path.sep}`) || ['errors', 'shell'].includes(e.to),
      ),
      [],
    );
  });

  it('salt translates into orch declarations: it imports no engine, pillar, transport, jobs, drift or cli', () => {
    assert.deepEqual(
      breaking(
        (e) =>
          !(e.from === 'salt' && ['engine', 'pillar', 'transport', 'jobs', 'drift', 'cli'].includes(e.to)),
      ),
      [],
    );
  });

  it('psql options, switching users and su are each written in one place', () => {
    const only: Array<[RegExp, string[]]> = [
      [/ON_ERROR_STOP/, ['pg/connector.ts']],
      [/\b(runuser|setpriv)\b/, ['shell/actor.ts']],
      [/\bsu -[ms]\b/, ['shell/actor.ts', 'facts/os/freebsd.ts', 'facts/os/linux.ts']],
      [/\bmktemp "\$/, ['shell/file.ts']],
    ];
    const found: string[] = [];
    for (const file of tsFiles(SRC)) {
      const rel = path.relative(SRC, file).split(path.sep).join('/');
      if (rel.startsWith('lab/')) continue; // the lab sets up machines, it does not act on managed hosts
      // Code only: comments may name the tools.
      const code = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
        .join('\n');
      for (const [re, allowed] of only)
        if (re.test(code) && !allowed.includes(rel)) found.push(`${rel}: ${re}`);
    }
    assert.deepEqual(found, []);
  });

  it('templates switch users and call psql only through the fragments the renderer passes in', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
      );
    const rules = [/ON_ERROR_STOP|\s-v\s+ON_ERROR/, /\b(runuser|setpriv)\b/, /\bsu -[ms]\b/];
    const found: string[] = [];
    const all = files(TEMPLATES);
    assert.ok(all.some((f) => f.endsWith('pg_make_replica.sh.njk')));
    for (const file of all) {
      // Code only: shell and template comments may name the tools.
      const code = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => !/^\s*(#|\{#)/.test(l))
        .join('\n');
      for (const re of rules) if (re.test(code)) found.push(`${path.relative(TEMPLATES, file)}: ${re}`);
    }
    assert.deepEqual(found, []);
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

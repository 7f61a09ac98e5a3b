// `orch salt check <tree>`: every Salt construct of a tree that orch cannot run, with file and line, read from the
// files alone (no host, no pillar, nothing connects). Three passes per file:
// 1. the text: the renderer line (`#!py`), Jinja orch's renderer lacks (`{% do %}`, `import_yaml`, Python methods,
//    unknown filters) and execution functions (`salt['cmd.run']`);
// 2. the shape: Jinja tags blanked (lines kept, each `{{ }}` a distinct placeholder) and the YAML read, then the same
//    translation compile uses (src/salt/translate.ts), so a finding here is an error of `orch apply` too;
// 3. each function: known to orch, and its argument names known to the function's schema.
// A file whose shape Jinja decides (the YAML does not read with tags blanked) is listed as not checked, never passed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type nunjucks from 'nunjucks';
import { InputError } from '../errors.js';
import { lineOf, parseYaml } from '../render/yaml.js';
import { lookupState } from '../states/registry.js';
import { SALT_FUNCTIONS } from './context.js';
import { rendererFinding, type Finding } from './findings.js';
import { saltUrlFile } from './paths.js';
import { readSaltTop } from './top.js';
import { translateSls } from './translate.js';

export interface CheckReport {
  /** Files read, relative to the tree. */
  files: string[];
  findings: Finding[];
}

const JINJA_ONLY: { re: RegExp; construct: string; message: string }[] = [
  { re: /\{%-?\s*do\b/, construct: '{% do %}', message: 'nunjucks has no do tag; use {% set %}' },
  {
    re: /\{%-?\s*(import_yaml|import_json|import_text|load_yaml|load_json|load_text)\b/,
    construct: 'Salt Jinja tag',
    message: 'orch reads data from pillar, not from imported yaml/json/text files',
  },
  {
    re: /\.(update|append|extend|iteritems|itervalues|iterkeys|startswith|endswith|format|setdefault|pop)\(/,
    construct: 'Python method',
    message: 'a Python method nunjucks does not have; use a filter or a set',
  },
];

/** Check the Salt tree at `root` (holding states/, and pillar/ when there is one). */
export function checkTree(root: string, env: nunjucks.Environment): CheckReport {
  const states = path.join(root, 'states');
  if (!existsSync(states) || !statSync(states).isDirectory()) {
    throw new InputError(
      'BAD_INPUT',
      `${root} has no states/ directory (a Salt tree: states/top.sls, states/*.sls)`,
    );
  }
  const findings: Finding[] = [];
  const files: string[] = [];
  for (const dir of ['states', 'pillar']) {
    const base = path.join(root, dir);
    if (!existsSync(base)) continue;
    for (const file of walk(base)) {
      const display = path.relative(root, file);
      files.push(display);
      const text = readFileSync(file, 'utf8');
      findings.push(...textFindings(text, display, env));
      if (!file.endsWith('.sls') || rendererFinding(text, display)) continue;
      const isTop = path.basename(file) === 'top.sls' && path.dirname(file) === base;
      if (dir === 'pillar' && !isTop) continue; // pillar data: any shape is fine
      const sls = path
        .relative(base, file)
        .replace(/\.sls$/, '')
        .replace(/\/init$/, '')
        .split(path.sep)
        .join('.');
      findings.push(...shapeFindings(text, display, isTop, sls, states));
    }
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0));
  return { files, findings };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (/\.(sls|jinja|j2)$/.test(name)) out.push(p);
  }
  return out;
}

function textFindings(text: string, file: string, env: nunjucks.Environment): Finding[] {
  const findings: Finding[] = [];
  const lines = text.split('\n');
  const renderer = rendererFinding(text, file);
  if (renderer) findings.push(renderer);
  lines.forEach((l, i) => {
    const line = i + 1;
    for (const m of l.matchAll(/salt\[\s*['"]([\w.]+)['"]\s*\]|salt\.(\w+\.\w+)\s*\(/g)) {
      const fn = m[1] ?? m[2]!;
      if (!(SALT_FUNCTIONS as readonly string[]).includes(fn))
        findings.push({
          file,
          line,
          construct: `salt['${fn}']`,
          message: `execution function not available on the controller (orch offers ${SALT_FUNCTIONS.join(', ')})`,
        });
    }
    for (const rule of JINJA_ONLY)
      if (rule.re.test(l)) findings.push({ file, line, construct: rule.construct, message: rule.message });
  });
  // Filters: every `| name` inside a tag must be one the render environment has.
  const filters = (env as unknown as { filters: Record<string, unknown> }).filters;
  for (const tag of text.matchAll(/\{[{%][\s\S]*?[%}]\}/g)) {
    const line = text.slice(0, tag.index).split('\n').length;
    for (const m of tag[0].matchAll(/\|\s*([A-Za-z_]\w*)/g)) {
      if (!(m[1]! in filters))
        findings.push({
          file,
          line,
          construct: `filter ${m[1]}`,
          message: 'not a filter of orch’s renderer (nunjucks and orch’s own)',
        });
    }
  }
  return findings;
}

/** Jinja tags blanked, line breaks kept; each expression a placeholder of its own (ids stay distinct). */
export function blankJinja(text: string): string {
  let n = 0;
  return text
    .replace(/\{#[\s\S]*?#\}/g, (c) => c.replace(/[^\n]/g, ''))
    .replace(/\{%[\s\S]*?%\}/g, (c) => c.replace(/[^\n]/g, ''))
    .replace(/\{\{[\s\S]*?\}\}/g, (c) => `jinja_${++n}${c.replace(/[^\n]/g, '')}`);
}

function shapeFindings(text: string, file: string, isTop: boolean, sls: string, states: string): Finding[] {
  let doc: unknown;
  try {
    doc = parseYaml(blankJinja(text), file);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return [
      {
        file,
        line: err.line,
        construct: 'not checked',
        message:
          'its YAML depends on its Jinja; `orch render <host>` shows it rendered, `orch apply --test` checks it',
      },
    ];
  }
  try {
    if (isTop) return readSaltTop(doc, file, lineOf).findings;
    const t = translateSls(doc, {
      file,
      lineOf,
      sls,
      exists: (url) => saltUrlFile(states, url) !== undefined,
    });
    const out = [...t.findings];
    if (t.doc) out.push(...functionFindings(t.doc, t.lineOf, file));
    return out;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return [
      { file, line: err.line, construct: 'declaration', message: err.message.replace(/^[^:]+:\d+: /, '') },
    ];
  }
}

function functionFindings(
  doc: Record<string, unknown>,
  lines: (node: object, key?: string | number) => number | undefined,
  file: string,
): Finding[] {
  const findings: Finding[] = [];
  for (const [id, decl] of Object.entries(doc)) {
    if (id === 'include' || decl === null || typeof decl !== 'object') continue;
    for (const [fn, args] of Object.entries(decl as Record<string, unknown>)) {
      const line = lines(decl, fn) ?? lines(doc, id);
      const impl = lookupState(fn);
      if (!impl) {
        findings.push({
          file,
          line,
          state: id,
          construct: `state ${fn}`,
          message: 'orch has no such state function (`orch states` lists them)',
        });
        continue;
      }
      const given: Record<string, unknown> = { name: id, ...(args as Record<string, unknown>) };
      for (const k of ['require', 'require_in', 'watch', 'watch_in', 'onchanges', 'onchanges_in'])
        delete given[k];
      const parsed = impl.args.safeParse(given);
      if (parsed.success) continue;
      for (const issue of parsed.error.issues) {
        if (issue.code !== 'unrecognized_keys') continue;
        for (const k of (issue as { keys: string[] }).keys)
          findings.push({
            file,
            line,
            state: id,
            construct: `argument ${k}`,
            message: `${fn} has no argument ${k} in orch`,
          });
      }
    }
  }
  return findings;
}

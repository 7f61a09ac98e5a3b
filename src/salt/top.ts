// A Salt top file (states/top.sls, pillar/top.sls): `<saltenv>: {<target>: [sls, ..., {match: glob}]}`. Salt's
// default (top_file_merging_strategy: merge): with no saltenv every environment's targets count, in file order;
// with `--saltenv X` only X's. Every environment reads the one tree (states/ or pillar/): orch has no file_roots.
// Targets: `match: glob` (the default) and `match: list` are orch targets as they are; `match: grain` with
// `key:value` is matched on the grains; other matchers are named as unsupported, never skipped.
import { InputError } from '../errors.js';
import type { Finding } from './findings.js';
import type { LineOf } from './translate.js';

export interface SaltTopEntry {
  saltenv: string;
  /** The orch target the Salt target means (glob or comma list), or a grain test. */
  target: string;
  grain?: { key: string; value: string };
  names: string[];
  line?: number;
}

const MATCHERS_AS_TARGETS = new Set(['glob', 'list']);

/** The entries of a parsed Salt top file and what in it orch cannot run. */
export function readSaltTop(
  doc: unknown,
  file: string,
  lineOf: LineOf,
  saltenv?: string,
): { entries: SaltTopEntry[]; findings: Finding[] } {
  const entries: SaltTopEntry[] = [];
  const findings: Finding[] = [];
  if (doc === null || doc === undefined) return { entries, findings };
  if (!isMap(doc)) {
    throw new InputError('STATE_ERROR', 'a Salt top file maps environments (base: ...) to targets', { file });
  }
  for (const [env, targets] of Object.entries(doc)) {
    const envLine = lineOf(doc, env);
    if (!isMap(targets)) {
      throw new InputError(
        'STATE_ERROR',
        `environment '${env}': expected a mapping of targets to sls lists`,
        {
          file,
          line: envLine,
        },
      );
    }
    if (saltenv !== undefined && env !== saltenv) continue;
    for (const [target, list] of Object.entries(targets)) {
      const line = lineOf(targets, target) ?? envLine;
      const items = Array.isArray(list) ? (list as unknown[]) : typeof list === 'string' ? [list] : null;
      if (items === null) {
        throw new InputError('STATE_ERROR', `target '${target}' (${env}): expected a list of sls names`, {
          file,
          line,
        });
      }
      let matcher = 'glob';
      const names: string[] = [];
      for (const [i, item] of items.entries()) {
        const at = (Array.isArray(list) ? lineOf(list, i) : undefined) ?? line;
        if (typeof item === 'string') names.push(item);
        else if (isMap(item) && typeof item.match === 'string' && Object.keys(item).length === 1)
          matcher = item.match;
        else
          findings.push({
            file,
            line: at,
            construct: 'top-file item',
            message: `${JSON.stringify(item)} under '${target}' is neither an sls name nor {match: ...}`,
          });
      }
      const entry: SaltTopEntry = { saltenv: env, target, names, line };
      if (matcher === 'grain' && /^[^:]+:.+$/.test(target)) {
        const [key, ...rest] = target.split(':');
        entry.grain = { key: key!, value: rest.join(':') };
      } else if (!MATCHERS_AS_TARGETS.has(matcher)) {
        findings.push({
          file,
          line,
          construct: `match: ${matcher}`,
          message: `target '${target}': orch matches glob, list and grain (key:value) targets, not ${matcher}`,
        });
        continue;
      } else if (/[!&=]/.test(target) || /^[A-Z]@/.test(target)) {
        findings.push({
          file,
          line,
          construct: 'compound target',
          message: `target '${target}' is compound matcher syntax; orch matches glob, list and grain targets`,
        });
        continue;
      }
      entries.push(entry);
    }
  }
  return { entries, findings };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

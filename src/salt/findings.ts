// A Salt construct orch cannot run, where it is. The same list feeds `orch salt check` (before anything connects)
// and compile (an error per finding, with the host), so nothing Salt would do is silently skipped.
import { InputError } from '../errors.js';

export interface Finding {
  file: string;
  line?: number;
  /** The state id concerned, when one is. */
  state?: string;
  /** Short name of the construct, e.g. `requisite prereq`, `salt['cmd.run']`, `state user.present`. */
  construct: string;
  message: string;
}

/** A finding as the compile error it is for `host`. */
export function findingError(f: Finding, host: string): InputError {
  const state = f.state ? `state '${f.state}': ` : '';
  return new InputError('SALT_UNSUPPORTED', `${state}${f.construct}: ${f.message} [host ${host}]`, {
    file: f.file,
    line: f.line,
    state: f.state,
    host,
  });
}

const RENDERERS_OK = new Set(['jinja|yaml', 'yaml', 'jinja | yaml', 'yaml_jinja', 'jinja']);

/** A first line `#!py` (any renderer but jinja|yaml) as a finding; undefined when the file is jinja|yaml. */
export function rendererFinding(text: string, file: string): Finding | undefined {
  const first = text.split('\n', 1)[0] ?? '';
  if (!first.startsWith('#!')) return undefined;
  const renderer = first.slice(2).trim();
  if (RENDERERS_OK.has(renderer)) return undefined;
  return { file, line: 1, construct: `renderer ${renderer}`, message: 'orch renders sls as jinja|yaml only' };
}

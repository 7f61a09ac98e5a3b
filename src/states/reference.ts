// The reference of every state function, from what the engine itself uses: the arguments from the zod schema
// each function validates with (via z.toJSONSchema: names, types, defaults, required, `.describe()` texts), and
// the prose from the comment that opens the function's module file (src/states/<module>/<function>.ts), whose
// sentences after the first with "never", "not", "only", "refuses", "kept" or "left" say what the function will not touch. `orch states` prints
// it and docs/STATES.md is generated from it (npm run docs), so neither can drift from the code.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { OrchError } from '../errors.js';
import { lookupState, stateNames } from './registry.js';

export interface ArgDoc {
  name: string;
  type: string;
  /** The default as YAML would spell it (JSON), `(the state id)` for name; absent when there is none. */
  default?: string;
  required: boolean;
  description: string;
}

export interface StateDoc {
  fn: string;
  /** The module comment, without its `module.function:` prefix. */
  about: string;
  /** Sentences of the module comment about what the function leaves alone or refuses. */
  untouched: string[];
  args: ArgDoc[];
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  default?: unknown;
  description?: string;
  pattern?: string;
};

/** A short type for a JSON schema: `string`, `present | absent`, `list of string`, `map`, `string | integer`. */
export function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => String(v)).join(' | ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' | ');
  const t = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  if (t === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (t === 'object') return s.properties ? 'object' : 'map';
  return t ?? 'any';
}

/** The documented arguments of a schema, in declaration order. */
export function argDocs(schema: z.ZodType): ArgDoc[] {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(js.required ?? []);
  return Object.entries(js.properties ?? {}).map(([name, p]) => {
    const doc: ArgDoc = {
      name,
      type: typeOf(p),
      // `name` is required by every schema, but the engine fills it from the state's id.
      required: required.has(name) && name !== 'name',
      description: p.description ?? '',
    };
    if (p.default !== undefined) doc.default = JSON.stringify(p.default);
    else if (name === 'name') doc.default = '(the state id)';
    return doc;
  });
}

/** The opening `//` comment of a state function's module file, as one paragraph. */
function moduleComment(fn: string): string {
  const [mod, name] = fn.split('.');
  for (const ext of ['ts', 'js']) {
    const file = fileURLToPath(new URL(`./${mod}/${name}.${ext}`, import.meta.url));
    if (!existsSync(file)) continue;
    const lines: string[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.startsWith('//')) break;
      lines.push(line.replace(/^\/\/ ?/, ''));
    }
    return lines
      .join(' ')
      .replace(/\s+/g, ' ')
      .replace(new RegExp(`^${fn.replace('.', '\\.')}:\\s*`), '')
      .trim();
  }
  return '';
}

// The first sentence says what the function manages; the limits follow it.
function untouchedOf(about: string): string[] {
  const sentences = about.split(/(?<=[.;])\s+(?=[A-Z`])/).slice(1);
  return sentences.filter((s) => /\b(never|not|only|refuses?|kept|left)\b/i.test(s)).map((s) => s.trim());
}

/** The reference of one state function; unknown names are refused with the list of known ones. */
export function stateDoc(fn: string): StateDoc {
  const impl = lookupState(fn);
  if (!impl) {
    throw new OrchError('BAD_INPUT', `no state function '${fn}' (known: ${stateNames().join(', ')})`);
  }
  const about = moduleComment(fn);
  return { fn, about, untouched: untouchedOf(about), args: argDocs(impl.args as z.ZodType) };
}

/** The reference of every state function, sorted by name. */
export function stateDocs(): StateDoc[] {
  return stateNames().map(stateDoc);
}

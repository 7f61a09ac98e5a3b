// The key/value output of a step (its orch_kv lines), read through one schema per probe: the keys the probe prints
// and the values each may take. Code reading a key the schema lacks is a type error, and a value the probe should
// never print is an error naming key and value, where a loose read would take it for "missing".
import { z } from 'zod';

/** A key printed as `1` when true and never printed otherwise. */
export const kvFlag = z.literal('1').optional();
/** A key always printed as `1` or `0`. */
export const kvBit = z.enum(['0', '1']);
/** A count or exit status as a decimal number. */
export const kvDigits = z.string().regex(/^\d+$/, 'expected a decimal number');
/** `orch_stat`: user:group:mode. */
export const kvStat = z.string().regex(/^[^:\n]*:[^:\n]*:[0-7]{1,4}$/, 'expected user:group:mode');
/** Free text (a comment, a file's content, a command's message). */
export const kvText = z.string();

export type KvRead<T> = { ok: true; kv: T } | { ok: false; error: string };

/** Parse a step's key/value output through its probe's schema; extra keys are dropped. */
export function readKv<T>(schema: z.ZodType<T>, out: { kv: Readonly<Record<string, string>> }): KvRead<T> {
  const r = schema.safeParse(out.kv);
  if (r.success) return { ok: true, kv: r.data };
  const problems = r.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    const got = key === '' ? undefined : out.kv[key];
    return got === undefined
      ? `no ${key || 'output'} (${issue.message})`
      : `${key}=${JSON.stringify(got.length > 80 ? `${got.slice(0, 80)}...` : got)} (${issue.message})`;
  });
  return { ok: false, error: `unexpected probe output: ${problems.join('; ')}` };
}

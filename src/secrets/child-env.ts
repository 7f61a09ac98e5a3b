// The environment of a local command orch starts for the operator (the --on-drift hook, the secrets editor,
// crontab/systemctl for schedules). Rule, in order:
//   - every ORCH_* variable is removed (identities, the job store URL, paths); orch adds back only what it
//     passes on purpose (e.g. ORCH_DRIFT_EXIT);
//   - PGPASSWORD is removed;
//   - any variable whose value holds an age private key, a URL with a password (scheme://user:password@...),
//     or a secret orch decrypted in this run (anything the redactor masks) is removed;
//   - everything else is kept, so PATH, HOME, locale and the hook's own settings still work.
// orch's own background worker is not such a command: it needs the identity and the store, and inherits them.
import { redactor } from './redactor.js';

const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]*@/i;
const AGE_KEY = /AGE-SECRET-KEY-/i;

/** Why a variable is withheld from a child, or undefined when it is passed on. */
export function withheldReason(name: string, value: string): string | undefined {
  if (/^ORCH_/i.test(name)) return 'orch setting';
  if (name.toUpperCase() === 'PGPASSWORD') return 'password';
  if (AGE_KEY.test(value)) return 'age identity';
  if (URL_WITH_PASSWORD.test(value)) return 'URL with a password';
  if (redactor.contains(value)) return 'holds a secret';
  return undefined;
}

/** The scrubbed copy of `base` with `extra` (orch's own, deliberate variables) added on top. */
export function scrubbedEnv(
  extra: Record<string, string> = {},
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || withheldReason(name, value) !== undefined) continue;
    out[name] = value;
  }
  return { ...out, ...extra };
}

// Exit codes of every verb; documented in README.md. Scripts depend on these: never renumber.
import { OrchError } from '../errors.js';

export const EXIT = {
  /** Everything succeeded (drift: no drift). */
  OK: 0,
  /** Some state or command failed on a reachable host. */
  FAILED: 1,
  /** drift: drift found (and nothing else went wrong). */
  DRIFT: 2,
  /** Some host could not be reached or authenticated (unreachable, auth, host key). */
  UNREACHABLE: 3,
  /** Bad input: YAML, template, unknown target, missing pillar key, bad arguments. Nothing was changed. */
  BAD_INPUT: 4,
  /** orch itself could not work: job store, lab, internal error. */
  ERROR: 5,
  /** A host is locked by another job. */
  LOCKED: 6,
} as const;

/** Map an error escaping a verb to its exit code. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof OrchError)) return EXIT.ERROR;
  switch (err.code) {
    case 'BAD_INPUT':
    case 'YAML_ERROR':
    case 'TEMPLATE_ERROR':
    case 'PILLAR_MISSING_KEY':
    case 'UNKNOWN_TARGET':
    case 'INVENTORY_ERROR':
    case 'STATE_ERROR':
    case 'SECRET_ERROR':
      return EXIT.BAD_INPUT;
    case 'HOST_UNREACHABLE':
    case 'AUTH_FAILED':
    case 'HOST_KEY_UNKNOWN':
    case 'HOST_KEY_CHANGED':
    case 'TIMEOUT':
      return EXIT.UNREACHABLE;
    case 'COMMAND_FAILED':
      return EXIT.FAILED;
    case 'LOCKED':
      return EXIT.LOCKED;
    default:
      return EXIT.ERROR;
  }
}

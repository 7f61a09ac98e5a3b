// The one table of orch's error codes: each code's exit code, kind and a hint for the user. Every list that sorts
// codes (exit codes, "bad input aborts the run", "the host could not be reached") is derived from it. This module
// sits at the bottom of the tree: it imports nothing, and everything may import it.

/** Exit codes of every verb; documented in README.md. Scripts depend on these: never renumber. */
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
  /** A lifecycle verb (orch pg switchover, follow, promote) refused before changing anything. */
  REFUSED: 7,
  /** Interrupted by SIGINT (Ctrl-C): hosts' current steps finished, the job recorded as interrupted, locks freed. */
  INTERRUPTED: 130,
  /** Interrupted by SIGTERM, wound down as for SIGINT. */
  TERMINATED: 143,
} as const;

/**
 * What an error says about the run: `input` - a file or argument the user wrote is wrong (a run stops before any
 * host is changed); `transport` - a host could not be reached or trusted; `failed` - work on a reachable host
 * failed; `refused` - a lifecycle verb's guard said no before anything changed; `locked`, `cancelled`;
 * `internal` - orch itself (job store, lab, a bug).
 */
export type ErrorKind = 'input' | 'transport' | 'failed' | 'refused' | 'locked' | 'cancelled' | 'internal';

export interface ErrorCodeInfo {
  exit: number;
  kind: ErrorKind;
  /** One line telling the user what to do next. */
  hint: string;
}

export const ERROR_CODES = {
  BAD_INPUT: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: 'check the arguments and the file named above; `orch <verb> --help` lists what a verb takes',
  },
  YAML_ERROR: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: 'fix the YAML at the file and line shown (indentation, a tab, an unquoted `:` or `{`)',
  },
  TEMPLATE_ERROR: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: 'fix the template at the file and line shown; `orch render <host>` shows what a state file renders to',
  },
  PILLAR_MISSING_KEY: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: '`orch pillar show <host>` shows the pillar the host gets; add the key or give it a default',
  },
  UNKNOWN_TARGET: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: '`orch hosts <target>` shows what a target matches: names, globs, group:<name>, key=value, & and ! (docs/TARGETING.md)',
  },
  CONFIG_ERROR: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: 'fix orch.yaml at the line named above (docs/ORCH-YAML.md lists its keys)',
  },
  INVENTORY_ERROR: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: 'fix the inventory file named above (inventory/hosts.yaml by default)',
  },
  STATE_ERROR: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: 'fix the state at the file and line shown; `orch render <host>` compiles without touching a host',
  },
  SALT_UNSUPPORTED: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: '`orch salt check <tree>` lists every Salt construct orch cannot run; docs/SALT.md says what is supported',
  },
  SECRET_ERROR: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: '`orch secrets check` tells which secrets this identity can decrypt (ORCH_AGE_IDENTITY_FILE)',
  },
  SSH_CONFIG_ERROR: {
    exit: EXIT.BAD_INPUT,
    kind: 'input',
    hint: 'fix the OpenSSH client config named above (~/.ssh/config, orch.yaml ssh_config or --ssh-config; `none` reads none)',
  },
  HOST_UNREACHABLE: {
    exit: EXIT.UNREACHABLE,
    kind: 'transport',
    hint: "check the host's address and port in the inventory and that sshd runs there",
  },
  AUTH_FAILED: {
    exit: EXIT.UNREACHABLE,
    kind: 'transport',
    hint: "check the inventory's user and key for the host (or the ssh agent in SSH_AUTH_SOCK)",
  },
  HOST_KEY_UNKNOWN: {
    exit: EXIT.UNREACHABLE,
    kind: 'transport',
    hint: 'verify the key, then `orch hostkeys trust <host>` or run once with --accept-new-hostkeys',
  },
  HOST_KEY_CHANGED: {
    exit: EXIT.UNREACHABLE,
    kind: 'transport',
    hint: 'the host presents another key than recorded: find out why before `orch hostkeys forget <host>`',
  },
  TIMEOUT: {
    exit: EXIT.UNREACHABLE,
    kind: 'transport',
    hint: 'the host did not answer in time; check it is up and not overloaded, then run again',
  },
  COMMAND_FAILED: {
    exit: EXIT.FAILED,
    kind: 'failed',
    hint: 'the output above is what the host said; fix the cause there and run again',
  },
  TRANSFER_FAILED: {
    exit: EXIT.FAILED,
    kind: 'failed',
    hint: 'the file could not be sent or fetched over SFTP: check that sshd has the sftp subsystem, the space and the permissions on the host',
  },
  PG_REFUSED: {
    exit: EXIT.REFUSED,
    kind: 'refused',
    hint: 'nothing was changed; the message names the check that failed, and `orch pg status` shows the cluster',
  },
  PG_STEP_FAILED: {
    exit: EXIT.FAILED,
    kind: 'failed',
    hint: 'the message says which state the cluster is left in; `orch pg status` shows it, `orch pg follow` repoints standbys',
  },
  LOCKED: {
    exit: EXIT.LOCKED,
    kind: 'locked',
    hint: 'another job holds the host: `orch jobs list` shows it; --wait waits for it',
  },
  CANCELLED: {
    exit: EXIT.ERROR,
    kind: 'cancelled',
    hint: 'the job was cancelled before it finished; `orch jobs lookup <jid>` shows what ran',
  },
  LAB_ERROR: {
    exit: EXIT.ERROR,
    kind: 'internal',
    hint: 'the lab needs root and the packages of scripts/ci-deps.sh; `orch lab status` shows its state',
  },
  JOB_STORE_ERROR: {
    exit: EXIT.ERROR,
    kind: 'internal',
    hint: 'check the job store (orch.yaml jobs.store or ORCH_JOB_STORE) is reachable and writable',
  },
  INTERNAL: {
    exit: EXIT.ERROR,
    kind: 'internal',
    hint: 'this is a bug in orch; run again with --debug and report the output (secrets are masked)',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type OrchErrorCode = keyof typeof ERROR_CODES;

/** What orch knows about a code (undefined for a code that is not orch's, e.g. a system error's ENOENT). */
export function codeInfo(code: string): ErrorCodeInfo | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as OrchErrorCode] : undefined;
}

/** The kind of a code; a code that is not orch's is internal. */
export function codeKind(code: string): ErrorKind {
  return codeInfo(code)?.kind ?? 'internal';
}

/** Exit code of a code; a code that is not orch's exits ERROR. */
export function codeExit(code: string): number {
  return codeInfo(code)?.exit ?? EXIT.ERROR;
}

/** Error codes meaning the user's input is wrong: a run stops before any host is changed. */
export function isInputCode(code: string): boolean {
  return codeKind(code) === 'input';
}

/** Error codes meaning the host could not be reached or trusted. */
export function isTransportCode(code: string): boolean {
  return codeKind(code) === 'transport';
}

/** What a host's error means for its recorded status, the same word in apply, run and drift. */
export type HostErrorStatus = 'not_run' | 'timeout' | 'unreachable' | 'error';

/** A host given up on a cancel or a signal was not run; a timeout, an unreachable host and any other error differ. */
export function hostErrorStatus(code: string): HostErrorStatus {
  if (code === 'CANCELLED') return 'not_run';
  if (code === 'TIMEOUT') return 'timeout';
  return isTransportCode(code) ? 'unreachable' : 'error';
}

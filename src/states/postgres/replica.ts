// postgres.replica: make this host a streaming standby of `primary` by running the rendered pg_make_replica
// script (templates/postgres/pg_make_replica.sh.njk): `--check` in the check phase, for real in the apply phase.
// The script decides and guards (replaces only empty, pristine or unrecoverable-standby data unless this run was
// started with --force-rebuild for this host; moves the old data aside, restores it on failure); this module renders it, reads its exit status and optionally
// installs it for admins. It does not manage postgresql.conf, pg_hba.conf, roles or the .pgpass file itself.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { osPaths } from '../../facts/os/index.js';
import { asDirOwner } from '../../shell/actor.js';
import { atomicWrite } from '../../shell/file.js';
import { printContent, shQuote } from '../../shell/quote.js';
import { absolutePath, lastLines } from '../common.js';
import { kvDigits, readKv } from '../probe.js';
import type { StepOutput } from '../../shell/protocol.js';
import type { ApplyStepOutcome, CheckOutcome, Diverged, StateContext, StateFunction } from '../types.js';
import { REPLICA_TEMPLATE, replicaTemplateContext } from './replica-context.js';

/** Exit codes of the script's --check mode. */
export const CHECK_EXIT = { CLEAN: 0, REBUILD: 10, REFUSED: 3 } as const;

const argvSchema = z.array(z.string().min(1)).min(1);

const args = z
  .object({
    name: z.string().optional().describe('a label for the state'),
    primary: z.string().min(1).describe('host name or address of the primary to replicate from'),
    primary_port: z.number().int().min(1).max(65535).default(5432).describe("the primary's port"),
    replication_user: z.string().min(1).describe('role the standby connects to the primary as'),
    // PostgreSQL's own rule for slot names; anything else would fail on the primary after the preflight.
    slot: z
      .string()
      .regex(/^[a-z0-9_]{1,63}$/, 'slot names are lower-case letters, digits and _, at most 63')
      .describe('physical replication slot on the primary the standby streams from'),
    version: z
      .union([z.string(), z.number()])
      .transform(String)
      .describe("the standby's PostgreSQL version, e.g. 15"),
    cluster: z.string().optional().describe('cluster name (Debian: main; elsewhere: data)'),
    pgpass: absolutePath.describe("passfile holding the replication user's password"),
    // Forcing used to be a state argument and stayed armed in the tree; it is now a one-shot command-line choice.
    force: z
      .unknown()
      .refine((v) => v === undefined, {
        message:
          "the 'force' argument was removed (it stayed armed in the state tree): remove it and force one run from the command line instead: orch apply <host> --force-rebuild <host>",
      })
      .optional()
      .describe(
        'removed: force one run from the command line with `orch apply <host> --force-rebuild <host>`',
      ),
    min_free_mb: z.number().int().min(0).default(100).describe('free MB to keep on top of the copy'),
    stream_wait_seconds: z
      .number()
      .int()
      .min(1)
      .max(604800)
      .optional()
      .describe('longest wait for a new or restarted standby to stream, while it makes progress'),
    stream_stall_seconds: z
      .number()
      .int()
      .min(1)
      .max(604800)
      .optional()
      .describe('give up when a standby makes no progress for this long'),
    keep_old_count: z
      .number()
      .int()
      .min(0)
      .max(100000)
      .optional()
      .describe('after a successful run keep only this many copies beside the data directory (default: all)'),
    keep_old_days: z
      .number()
      .int()
      .min(0)
      .max(100000)
      .optional()
      .describe('after a successful run remove copies beside the data directory older than this many days'),
    max_rate: z
      .union([z.number(), z.string()])
      .optional()
      .describe(
        "pg_basebackup's --max-rate for the copy: kB/s, or with a k or M suffix (32k to 1024M; default: no limit)",
      ),
    state_dir: absolutePath
      .optional()
      .describe("root's directory where a rebuild records its steps (default /var/lib/orch/pg_make_replica)"),
    script_path: absolutePath.optional().describe('also install pg_make_replica at this path (mode 0750)'),
    // Overrides for layouts the facts do not describe (and for tests); normally taken from the host's facts.
    data_dir: absolutePath.optional().describe("the standby's data directory (default: from the facts)"),
    bin_dir: absolutePath.optional().describe("directory of PostgreSQL's programs (default: from the facts)"),
    pg_user: z.string().optional().describe('OS user of the server (default: from the facts)'),
    pg_group: z.string().optional().describe("the server's OS group (default: from the facts)"),
    service: z
      .object({ start: argvSchema, stop: argvSchema, status: argvSchema })
      .strict()
      .optional()
      .describe('commands (argv lists) to start, stop and query the server (default: the init system)'),
  })
  .strict();
type Args = z.infer<typeof args>;

interface Prepared {
  /** The script this run executes (forced when this run's --force-rebuild names the host). */
  script: string;
  /** The copy installed at script_path, for admins to run by hand: never forced. */
  installed: string;
  sha256: string;
  dataDir: string;
}

/** The script's context for this host: the state's arguments over the host's PostgreSQL paths. */
export function replicaContextFor(a: Args, ctx: StateContext): Record<string, unknown> {
  const os = osPaths(ctx.facts);
  const pg = os.postgresPaths(a.version, a.cluster);
  const serviceName = pg.serviceName;
  const pgUser = a.pg_user ?? pg.pgUser;
  return replicaTemplateContext({
    primaryHost: a.primary,
    primaryPort: a.primary_port,
    replicationUser: a.replication_user,
    slot: a.slot,
    version: a.version,
    dataDir: a.data_dir ?? pg.dataDir,
    binDir: a.bin_dir ?? pg.binDir,
    pgUser,
    pgGroup: a.pg_group ?? pgUser,
    serviceStart: a.service?.start ?? os.serviceCmd(serviceName, 'start'),
    serviceStop: a.service?.stop ?? os.serviceCmd(serviceName, 'stop'),
    serviceStatus: a.service?.status ?? os.serviceCmd(serviceName, 'status'),
    pgpass: a.pgpass,
    force: ctx.forceRebuild === true,
    minFreeMb: a.min_free_mb,
    streamWaitSeconds: a.stream_wait_seconds,
    streamStallSeconds: a.stream_stall_seconds,
    freebsd: os.freebsd,
    stateDir: a.state_dir,
    keepOldCount: a.keep_old_count,
    keepOldDays: a.keep_old_days,
    maxRate: a.max_rate,
  });
}

/**
 * Shell for the apply phase that pipes the script into a fresh /bin/sh: its output streams through (live progress)
 * and is kept in a temp file; kv `rc` is its exit status and a `changed:` line sets orch_changed.
 */
function runScript(script: string): string {
  return `orch_log=$(mktemp); orch_rcf=$(mktemp)
trap 'rm -f "$orch_log" "$orch_rcf"' EXIT
${printContent(script, `| { if /bin/sh -s 2>&1; then orch_r=0; else orch_r=$?; fi; echo "$orch_r" > "$orch_rcf"; } | tee "$orch_log"`)}
orch_rc=$(cat "$orch_rcf")
orch_kv rc "$orch_rc"
if grep -q '^changed:' "$orch_log"; then orch_changed=1; fi`;
}

/**
 * Shell for the check phase: the script with --check, its output straight through to the step's (a check changes
 * nothing, so there is no changed: line to look for and no log to keep), kv `rc` its exit status. Two processes: the
 * printf group feeding it and the script's shell.
 */
function checkScriptRun(script: string): string {
  return `if ${printContent(script, '| /bin/sh -s -- --check 2>&1')}
then orch_rc=0; else orch_rc=$?; fi
orch_kv rc "$orch_rc"`;
}

/** Shell installing the script at `dest` (0750) atomically, as the owner of its directory; sets orch_changed. */
function installScript(script: string, sha256: string, dest: string): string {
  const f = shQuote(dest);
  const d = shQuote(path.posix.dirname(dest));
  return `f=${f}
if [ ! -f "$f" ] || [ "$(orch_sha256 "$f")" != ${sha256} ] || [ "$(orch_stat "$f" | cut -d: -f3)" != 750 ]; then
  ${asDirOwner(
    d,
    `f=${f}; d=${d}
${atomicWrite({
  fileVar: 'f',
  dirVar: 'd',
  tmpVar: 'tmp',
  produce: printContent(script, '> "$tmp"'),
  owner: 'writer',
  mode: '0750',
  replaced: 'echo "step install: $f updated"',
})}`,
  )}
fi`;
}

/** What the check prints: the script's exit status, and how the installed copy compares when script_path is set. */
const checkKv = z.object({
  rc: kvDigits.optional(),
  installed: z.enum(['same', 'absent', 'differs']).optional(),
});

function scriptNote(a: Args, kv: z.infer<typeof checkKv>): string | null {
  if (!a.script_path) return null;
  return kv.installed === 'same'
    ? null
    : `${a.script_path} would be ${kv.installed === 'absent' ? 'installed' : 'updated'}`;
}

/** Interpret the `--check` run. */
export function interpretReplicaCheck(a: Args, out: StepOutput): CheckOutcome {
  const read = readKv(checkKv, out);
  if (out.status !== 0 || !read.ok || read.kv.rc === undefined) {
    return {
      status: 'unknown',
      comment: `pg_make_replica --check did not complete: ${read.ok ? lastLines(out.text, 6) : read.error}`,
    };
  }
  const rc = Number(read.kv.rc);
  const text = out.text.trim();
  const note = scriptNote(a, read.kv);
  // Copies of earlier rebuilds beside the data directory, with their size: drift until they are gone (the
  // apply removes those the retention does not keep; the others are the admin's to remove).
  const leftovers = text.split('\n').filter((l) => l.startsWith('leftover:'));
  const withLeftovers = (c: string) => [c, ...leftovers].join('\n');
  if (rc === CHECK_EXIT.CLEAN) {
    const line = text.split('\n').find((l) => l.startsWith('no change:')) ?? 'no change';
    const diff = [...(note ? [note] : []), ...leftovers].join('\n');
    return diff
      ? { status: 'change', comment: withLeftovers(note ? `${line}; ${note}` : line), diff }
      : { status: 'clean', comment: line };
  }
  if (rc === CHECK_EXIT.REBUILD) {
    const plan = text
      .split('\n')
      .filter((l) => l.startsWith('plan:'))
      .map((l) => l.slice(6));
    const diff = [...plan, ...(note ? [note] : [])].join('\n');
    // Not every plan is a copy: a stopped standby is started, a lagging one waited for.
    const rebuild = plan.some((l) => /pg_basebackup/.test(l));
    const interrupted = plan.some((l) => /was interrupted at step/.test(l));
    const what = interrupted
      ? 'has an interrupted rebuild that the next run resumes or rolls back'
      : rebuild
        ? 'would be rebuilt'
        : 'would be started or waited for (no rebuild)';
    return { status: 'change', comment: withLeftovers(`replica of ${a.primary} ${what}`), diff, plan };
  }
  if (rc === CHECK_EXIT.REFUSED) {
    const why = text.split('\n').filter((l) => l.startsWith('refused:'));
    const outcome: CheckOutcome = {
      status: 'error',
      comment: why.length ? why.join('\n') : lastLines(text, 6),
    };
    const diverged = /^diverged: (role|timeline|upstream)$/m.exec(text)?.[1] as Diverged | undefined;
    if (diverged) outcome.diverged = diverged;
    return outcome;
  }
  return { status: 'unknown', comment: `pg_make_replica --check exited ${rc}: ${lastLines(text, 6)}` };
}

/** A progress line of pg_basebackup -P: `1234/56789 kB (2%), 0/1 tablespace` (with -v, a file name after it). */
export const PROGRESS_LINE = /^\s*\d+\/\d+ kB \(\d+%\)/;

/** Interpret the real run: changed when the script said so (or the installed copy changed). */
export function interpretReplicaApply(out: StepOutput): ApplyStepOutcome {
  const lines = out.text.trim().split('\n');
  const changedLine = lines.find((l) => l.startsWith('changed:'));
  const noChange = lines.find((l) => l.startsWith('no change:'));
  if (out.status === 100) {
    return {
      result: true,
      changed: true,
      comment: changedLine ?? lines.filter((l) => l.startsWith('step install:')).join('\n'),
    };
  }
  if (out.status === 0) return { result: true, changed: false, comment: noChange ?? 'no change' };
  const status = out.status === null ? 'the script ended early' : `exit status ${out.kv.rc ?? out.status}`;
  // The base backup's progress lines were live output; the reason for the failure is what the comment keeps.
  const text = out.text
    .split(/\r?\n|\r/)
    .filter((l) => !PROGRESS_LINE.test(l))
    .join('\n');
  return {
    result: false,
    changed: false,
    comment: `pg_make_replica failed (${status}): ${lastLines(text, 8)}`,
  };
}

export const postgresReplica: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    const context = replicaContextFor(a, ctx);
    const script = ctx.renderTemplate(REPLICA_TEMPLATE, context);
    // --force-rebuild is for this run only: a forced copy left installed would force every later run by hand
    // (and the next apply would report the unforced copy as a change).
    const installed = context.force
      ? ctx.renderTemplate(REPLICA_TEMPLATE, { ...context, force: false })
      : script;
    return {
      script,
      installed,
      sha256: createHash('sha256').update(installed, 'utf8').digest('hex'),
      dataDir: String(context.data_dir),
    };
  },
  check(a, p) {
    const install = a.script_path
      ? `f=${shQuote(a.script_path)}
if [ ! -f "$f" ]; then orch_kv installed absent
elif orch_shav "$f" && [ "$orch_sha" = ${p.sha256} ] && orch_statv "$f" && [ "\${orch_st##*:}" = 750 ]; then orch_kv installed same
else orch_kv installed differs; fi
`
      : '';
    return `${install}${checkScriptRun(p.script)}`;
  },
  // The check sets variables and runs the script in a pipeline: no exit, cd, trap or set -e of its own.
  inlineCheck: true,
  interpretCheck(a, _p, out) {
    return interpretReplicaCheck(a, out);
  },
  apply(a, p) {
    const install = a.script_path ? `${installScript(p.installed, p.sha256, a.script_path)}\n` : '';
    // The script re-runs its preflight itself, so this is right even when the check said 'unknown'.
    return `${install}${runScript(p.script)}
[ "$orch_rc" = 0 ] || exit "$orch_rc"`;
  },
  interpretApply(_a, _p, out) {
    return interpretReplicaApply(out);
  },
};

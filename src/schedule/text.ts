// The text of a nightly drift schedule: a systemd service + timer pair, or one crontab line marked
// `# orch-schedule:<name>`, plus the environment a scheduled run needs (paths only: never key material). Pure
// functions; installing them is ./install.ts.
import { OrchError } from '../errors.js';
import { shJoin, shQuote } from '../shell/quote.js';

export interface ScheduleSpec {
  /** orch-drift-<slug>: unit file base name and crontab marker. */
  name: string;
  hour: number;
  minute: number;
  /** Project root: the run's working directory and ORCH_ROOT. */
  root: string;
  /** Absolute path of node. */
  node: string;
  /** Options for node before the script (e.g. a loader when running from source). */
  nodeArgs: string[];
  /** orch's entry script (dist/src/cli/main.js). */
  main: string;
  /** Arguments after `drift`: target and drift options. */
  args: string[];
  /** Environment for the run (names and values; values are paths and settings, never secrets). */
  env: Record<string, string>;
  /** Where a cron run's output goes (systemd has the journal). */
  logFile?: string;
  /** Longest one run may take, in seconds (default DEFAULT_SCHEDULE_TIMEOUT_SEC). */
  timeoutSec?: number;
}

/** A nightly run still going after this long is hung: stop it before it holds the next night too. */
export const DEFAULT_SCHEDULE_TIMEOUT_SEC = 4 * 3600;

/** After the timeout's SIGTERM, orch lets each host's current step finish; this long, then SIGKILL. */
export const SCHEDULE_KILL_AFTER_SEC = 300;

function timeoutOf(s: ScheduleSpec): number {
  const t = s.timeoutSec ?? DEFAULT_SCHEDULE_TIMEOUT_SEC;
  if (!Number.isInteger(t) || t <= 0)
    throw new OrchError('BAD_INPUT', `a schedule timeout is a positive whole number of seconds, got ${t}`);
  return t;
}

export const MARKER = '# orch-schedule:';

/** Parse --at HH:MM (24 h). */
export function parseAt(at: string): { hour: number; minute: number } {
  const m = /^(\d{1,2}):(\d{2})$/.exec(at.trim());
  const hour = m ? Number(m[1]) : NaN;
  const minute = m ? Number(m[2]) : NaN;
  if (!m || hour > 23 || minute > 59)
    throw new OrchError('BAD_INPUT', `--at ${JSON.stringify(at)}: use HH:MM, e.g. 02:30`);
  return { hour, minute };
}

/** The schedule name for a target (or an explicit name): orch-drift-<slug>, lower-case letters, digits and dashes. */
export function scheduleName(targetOrName: string): string {
  const base = targetOrName.replace(/^orch-drift-/, '');
  let slug = base
    .toLowerCase()
    .replace(/\*/g, 'all')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  if (slug === '') slug = 'all';
  return `orch-drift-${slug}`;
}

/** What to keep from the caller's environment for a scheduled run, and warnings about what was left out. */
export function scheduleEnv(
  root: string,
  env: NodeJS.ProcessEnv,
): { env: Record<string, string>; warnings: string[] } {
  const out: Record<string, string> = { ORCH_ROOT: root };
  const warnings: string[] = [];
  if (env.HOME) out.HOME = env.HOME;
  for (const k of [
    'ORCH_STATE_DIR',
    'ORCH_KNOWN_HOSTS',
    'ORCH_AGE_IDENTITY_FILE',
    'XDG_CONFIG_HOME',
  ] as const) {
    const v = env[k];
    if (v) out[k] = v;
  }
  const store = env.ORCH_JOB_STORE;
  if (store) {
    // A URL with a password would put the password in a unit file or crontab: leave it to orch.yaml / .pgpass.
    if (/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(store)) {
      warnings.push(
        'ORCH_JOB_STORE holds a password: not copied; set jobs.store in orch.yaml and use ~/.pgpass',
      );
    } else out.ORCH_JOB_STORE = store;
  }
  if (env.ORCH_AGE_IDENTITY && !env.ORCH_AGE_IDENTITY_FILE) {
    warnings.push(
      'ORCH_AGE_IDENTITY (a key) is never copied into a schedule: the run will use ORCH_AGE_IDENTITY_FILE or ~/.config/orch/identity.txt',
    );
  }
  if (env.SSH_AUTH_SOCK) {
    warnings.push(
      'SSH_AUTH_SOCK is not copied (the agent will not be there at night): hosts need an identity file',
    );
  }
  return { env: out, warnings };
}

/** Quote one word for a systemd command line (ExecStart): C-style double quotes; % and $ doubled. */
export function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(escaped) && escaped !== ';') return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A systemd Environment= line for one variable (quoted; % doubled; no $ expansion happens there). */
function systemdEnv(name: string, value: string): string {
  const v = `${name}=${value}`.replace(/%/g, '%%').replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `Environment="${v}"`;
}

function commandWords(s: ScheduleSpec): string[] {
  return [s.node, ...s.nodeArgs, s.main, 'drift', ...s.args];
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The service and timer unit texts. */
export function systemdUnits(s: ScheduleSpec): { service: string; timer: string } {
  if (/[\n\r]/.test(s.root)) throw new OrchError('BAD_INPUT', 'the project root path contains a newline');
  const when = `${pad(s.hour)}:${pad(s.minute)}`;
  const service = [
    `${MARKER}${s.name}`,
    '[Unit]',
    `Description=orch drift check (${s.name}) at ${when}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    // Exit 2 means drift was found: the unit shows as failed, which is what monitoring should see.
    `WorkingDirectory=${s.root.replace(/%/g, '%%')}`,
    ...Object.entries(s.env).map(([k, v]) => systemdEnv(k, v)),
    `ExecStart=${commandWords(s).map(systemdWord).join(' ')}`,
    // A hung run is stopped with SIGTERM (orch records the job interrupted and frees its locks), then killed.
    `TimeoutStartSec=${timeoutOf(s)}`,
    `TimeoutStopSec=${SCHEDULE_KILL_AFTER_SEC}`,
    '',
  ].join('\n');
  const timer = [
    `${MARKER}${s.name}`,
    '[Unit]',
    `Description=nightly orch drift check (${s.name})`,
    '',
    '[Timer]',
    `OnCalendar=*-*-* ${when}:00`,
    'Persistent=true',
    `Unit=${s.name}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { service, timer };
}

/** One crontab line: `M H * * * cd <root> && VAR=... [timeout ...] node main drift ... >> log 2>&1 # orch-schedule:<name>`. */
export function cronLine(s: ScheduleSpec): string {
  const env = Object.entries(s.env).map(([k, v]) => `${k}=${shQuote(v)}`);
  const log = s.logFile ? ` >> ${shQuote(s.logFile)} 2>&1` : '';
  // timeout(1) where the system has it (GNU coreutils, FreeBSD): TERM first, then KILL.
  const limit = `$(command -v timeout >/dev/null 2>&1 && echo timeout -k ${SCHEDULE_KILL_AFTER_SEC} ${timeoutOf(s)})`;
  const command = `cd ${shQuote(s.root)} && ${[...env, limit, shJoin(commandWords(s))].join(' ')}${log}`;
  if (/[\n\r]/.test(command))
    throw new OrchError('BAD_INPUT', 'a path or argument of the schedule contains a newline');
  // cron turns an unescaped % into a newline (stdin); \% is a literal %.
  return `${s.minute} ${s.hour} * * * ${command.replace(/%/g, '\\%')} ${MARKER}${s.name}`;
}

/** The crontab text without the lines of schedule `name` (or, with name undefined, unchanged). */
export function removeCronEntry(crontab: string, name: string): { text: string; removed: number } {
  const lines = crontab.split('\n');
  const keep = lines.filter((l) => !l.endsWith(`${MARKER}${name}`));
  return { text: keep.join('\n'), removed: lines.length - keep.length };
}

/** The crontab text with schedule `name` set to `line` (replacing an older line of the same name). */
export function setCronEntry(crontab: string, name: string, line: string): string {
  const { text } = removeCronEntry(crontab, name);
  const body = text.replace(/\n+$/, '');
  return `${body ? `${body}\n` : ''}${line}\n`;
}

export interface ListedSchedule {
  name: string;
  kind: 'systemd' | 'cron';
  /** HH:MM */
  at: string;
  command: string;
  where: string;
}

/** The orch schedules in a crontab's text. */
export function cronEntries(crontab: string, where: string): ListedSchedule[] {
  const out: ListedSchedule[] = [];
  for (const line of crontab.split('\n')) {
    const m = /^(\d+) (\d+) \* \* \* (.*) # orch-schedule:([a-z0-9-]+)$/.exec(line);
    if (m)
      out.push({
        name: m[4]!,
        kind: 'cron',
        at: `${pad(Number(m[2]))}:${pad(Number(m[1]))}`,
        command: m[3]!,
        where,
      });
  }
  return out;
}

// `orch schedule drift|list|remove`: nightly drift checks on the controller, as a systemd timer or a crontab line.
// Parses options and prints; the unit/cron text is src/schedule/text.ts and installing it src/schedule/install.ts.
import { InvalidArgumentError, type Command } from 'commander';
import { globalOptions, projectFor } from '../verb.js';

interface ScheduleFlags {
  at: string;
  name?: string;
  group?: string;
  onDrift?: string;
  format?: string;
  reportFile?: string;
  systemd?: boolean;
  cron?: boolean;
  unitDir?: string;
  crontabFile?: string;
  main?: string;
  timeout?: number;
}

interface WhereFlags {
  unitDir?: string;
  crontabFile?: string;
}

function wholeSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`wants a positive whole number of seconds, got '${v}'`);
  return n;
}

export function register(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'install, list and remove nightly drift checks on this controller (systemd timer or crontab)',
    );

  schedule
    .command('drift')
    .description(
      'run `orch drift <target>` every day at a time: a systemd timer where systemd runs, else a crontab line',
    )
    .argument('[target]', "hosts to check (default '*')", '*')
    .requiredOption('--at <HH:MM>', 'time of day (24 h, local time), e.g. 02:30')
    .option('--name <name>', 'schedule name (default from the target: orch-drift-<target>)')
    .option('-g, --group <name>', 'only hosts in this group')
    .option(
      '--on-drift <command>',
      'passed to orch drift: command run with the JSON report when drift is found',
    )
    .option('--format <format>', 'passed to orch drift: human, json, junit or markdown')
    .option('--report-file <path>', 'passed to orch drift: write the report here too')
    .option('--systemd', 'install systemd units even if systemd does not seem to run')
    .option('--cron', "install a line in the current user's crontab")
    .option('--unit-dir <dir>', 'write the units here instead of /etc/systemd/system (not enabled then)')
    .option('--crontab-file <file>', 'edit this file instead of the crontab (for tests)')
    .option('--main <path>', "orch's entry script to run (default: this orch)")
    .option(
      '--timeout <s>',
      'stop a run still going after this many seconds (default 14400, 4 h): SIGTERM, then SIGKILL 300 s later',
      wholeSeconds,
    )
    .addHelpText(
      'after',
      `
The scheduled command is 'cd <root> && <node> <orch main.js> drift <target> ...' with ORCH_ROOT and the
state dir, known_hosts, job store and identity FILE settings of this shell (never a key itself).
A run still going after --timeout gets SIGTERM (systemd TimeoutStartSec, timeout(1) in the crontab line): orch
records its job interrupted and exits; one not gone 300 s later is killed.
Examples:
  orch schedule drift --at 02:30 '*' --on-drift '/usr/local/bin/notify-ops'
  orch schedule drift --at 03:00 group:db --format junit --report-file /var/lib/orch/drift-db.xml
  orch schedule list
  orch schedule remove orch-drift-all`,
    )
    .action(async (target: string, o: ScheduleFlags, cmd: Command) => {
      process.exitCode = await installAction(target, o, cmd);
    });

  schedule
    .command('list')
    .description('list the drift schedules orch installed (systemd units and crontab lines)')
    .option('--unit-dir <dir>', 'unit directory to look in (default /etc/systemd/system)')
    .option('--crontab-file <file>', 'crontab file to look in instead of the crontab')
    .action(async (o: WhereFlags, cmd: Command) => {
      process.exitCode = await listAction(o, cmd);
    });

  schedule
    .command('remove')
    .description('remove a drift schedule (its units, or its crontab line)')
    .argument('<name>', 'schedule name as shown by orch schedule list (orch-drift-...)')
    .option('--unit-dir <dir>', 'unit directory (default /etc/systemd/system)')
    .option('--crontab-file <file>', 'crontab file instead of the crontab')
    .action(async (name: string, o: WhereFlags, cmd: Command) => {
      process.exitCode = await removeAction(name, o, cmd);
    });
}

async function installAction(target: string, o: ScheduleFlags, cmd: Command): Promise<number> {
  const [path, text, install, { orchEntry }, { OrchError }, { parseDriftFormat }, { printJson }] =
    await Promise.all([
      import('node:path'),
      import('../../schedule/text.js'),
      import('../../schedule/install.js'),
      import('../../schedule/entry.js'),
      import('../../errors.js'),
      import('../../drift/format/index.js'),
      import('../verb.js'),
    ]);
  if (o.systemd && o.cron) throw new OrchError('BAD_INPUT', 'give at most one of --systemd and --cron');
  const { hour, minute } = text.parseAt(o.at);
  const project = projectFor(cmd);
  const args = [target];
  if (o.group) args.push('--group', o.group);
  if (o.format) args.push('--format', parseDriftFormat(o.format));
  if (o.reportFile) args.push('--report-file', path.resolve(o.reportFile));
  if (o.onDrift) args.push('--on-drift', o.onDrift);
  args.push('--no-progress');
  const entry = o.main ? { node: process.execPath, nodeArgs: [], main: path.resolve(o.main) } : orchEntry();
  const { env, warnings } = text.scheduleEnv(project.root, process.env);
  for (const w of warnings) process.stderr.write(`orch: warning: ${w}\n`);
  const spec = {
    name: text.scheduleName(o.name ?? target),
    hour,
    minute,
    root: project.root,
    ...entry,
    args,
    env,
    logFile: path.join(project.stateDir, 'drift-schedule.log'),
    ...(o.timeout === undefined ? {} : { timeoutSec: o.timeout }),
  };
  const kind = o.systemd || o.unitDir ? 'systemd' : o.cron || o.crontabFile ? 'cron' : install.defaultKind();
  const json = globalOptions(cmd).output === 'json';
  const when = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  if (kind === 'systemd') {
    const files = await install.installSystemd(spec, { unitDir: o.unitDir });
    if (json) printJson({ name: spec.name, kind, files });
    else process.stdout.write(`installed ${spec.name} (systemd timer, daily ${when}): ${files.join(', ')}\n`);
  } else {
    const line = await install.installCron(spec, { crontabFile: o.crontabFile });
    if (json) printJson({ name: spec.name, kind, line });
    else
      process.stdout.write(
        `installed ${spec.name} (crontab, daily ${when}; output in ${spec.logFile}):\n${line}\n`,
      );
  }
  return 0;
}

async function listAction(o: WhereFlags, cmd: Command): Promise<number> {
  const [{ listSchedules }, { printJson }] = await Promise.all([
    import('../../schedule/install.js'),
    import('../verb.js'),
  ]);
  const all = await listSchedules({ unitDir: o.unitDir, crontabFile: o.crontabFile });
  if (globalOptions(cmd).output === 'json') printJson(all);
  else if (all.length === 0) process.stdout.write('no orch schedules\n');
  else
    for (const s of all)
      process.stdout.write(`${s.name}  ${s.kind}  daily ${s.at}  (${s.where})\n    ${s.command}\n`);
  return 0;
}

async function removeAction(name: string, o: WhereFlags, cmd: Command): Promise<number> {
  const [{ removeSchedule }, { scheduleName }, { OrchError }, { printJson }] = await Promise.all([
    import('../../schedule/install.js'),
    import('../../schedule/text.js'),
    import('../../errors.js'),
    import('../verb.js'),
  ]);
  const full = scheduleName(name);
  const removed = await removeSchedule(full, { unitDir: o.unitDir, crontabFile: o.crontabFile });
  if (removed.length === 0)
    throw new OrchError('BAD_INPUT', `no schedule named ${full} (see orch schedule list)`);
  if (globalOptions(cmd).output === 'json') printJson({ name: full, removed });
  else process.stdout.write(`removed ${full}: ${removed.join(', ')}\n`);
  return 0;
}

// `orch hostkeys list|trust|forget`: look at and change which host keys orch trusts (the project's known_hosts).
// trust fetches the key with a bare handshake (no login), records it only when the host is unknown, and replaces
// a different recorded key only with --replace. Parsing and the trust decision live in src/transport.
import { InvalidArgumentError, type Command } from 'commander';
import { table } from '../../text/table.js';
import type { ProjectConfig } from '../../config/project.js';
import { OrchError } from '../../errors.js';
import type { HostSpec } from '../../inventory/types.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import { LIMIT_HELP, targetHosts, type TargetFlags } from '../targets.js';

export interface HostKeyRow {
  host: string;
  /** Host patterns of the line (hashed names shown as `(hashed)`). */
  names: string;
  type: string;
  fingerprint: string;
  line: number;
  marker?: string;
}

export interface TrustRow {
  host: string;
  type?: string;
  fingerprint?: string;
  /** What happened: trusted (new), already trusted, replaced, refused, or error. */
  result: 'trusted' | 'known' | 'replaced' | 'refused' | 'error';
  previous?: string[];
  error?: { code: string; message: string };
}

async function targets(project: ProjectConfig, target: string, flags: TargetFlags): Promise<HostSpec[]> {
  // Facts need a trusted connection: choosing hosts by facts to trust their keys would be circular.
  return (await targetHosts(project, target, flags, { noFacts: 'need a trusted host key first' })).hosts;
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`--timeout wants a positive number of seconds, got '${v}'`);
  return n;
}

async function listAction(target: string | undefined, opts: TargetFlags, cmd: Command): Promise<void> {
  const { KnownHosts, fingerprint } = await import('../../transport/known-hosts.js');
  const project = projectFor(cmd);
  const kh = new KnownHosts(project.knownHostsFile);
  const row = (host: string, e: import('../../transport/known-hosts.js').KnownHostEntry): HostKeyRow => ({
    host,
    names: e.patterns.map((p) => (p.startsWith('|1|') ? '(hashed)' : p)).join(','),
    type: e.keyType,
    fingerprint: fingerprint(Buffer.from(e.keyBase64, 'base64')),
    line: e.lineNo,
    ...(e.marker ? { marker: `@${e.marker}` } : {}),
  });
  let rows: HostKeyRow[];
  let unknown: string[] = [];
  if (target === undefined) {
    rows = kh.entries().map((e) => row('', e));
  } else {
    const hosts = await targets(project, target, opts);
    rows = hosts.flatMap((h) => kh.lookup(h).map((e) => row(h.name, e)));
    unknown = hosts.filter((h) => kh.lookup(h).every((e) => e.marker)).map((h) => h.name);
  }
  if (globalOptions(cmd).output === 'json') {
    printJson({ file: project.knownHostsFile, keys: rows, unknown });
    return;
  }
  const header =
    target === undefined
      ? ['NAMES', 'TYPE', 'FINGERPRINT', 'LINE']
      : ['HOST', 'NAMES', 'TYPE', 'FINGERPRINT', 'LINE'];
  const body = rows.map((r) => {
    const cells = [r.marker ? `${r.marker} ${r.names}` : r.names, r.type, r.fingerprint, String(r.line)];
    return target === undefined ? cells : [r.host, ...cells];
  });
  if (body.length) process.stdout.write(table([header, ...body]));
  else process.stdout.write(`no host keys in ${project.knownHostsFile}\n`);
  for (const name of unknown)
    process.stdout.write(`${name}: no key recorded (orch hostkeys trust ${name})\n`);
}

async function trustAction(
  target: string,
  opts: TargetFlags & { replace?: boolean; timeout?: number },
  cmd: Command,
): Promise<void> {
  const [{ KnownHosts, fingerprint, keyTypeOf }, { scanHostKey }, { Limiter }] = await Promise.all([
    import('../../transport/known-hosts.js'),
    import('../../transport/host-key-scan.js'),
    import('../../transport/limiter.js'),
  ]);
  const project = projectFor(cmd);
  const hosts = await targets(project, target, opts);
  const kh = new KnownHosts(project.knownHostsFile);
  // Jump hosts are logged into on the way: their keys are checked as on any connection.
  const opensshKnownHosts = (project.opensshKnownHostsFiles ?? []).map((f) => new KnownHosts(f));
  const limiter = new Limiter(project.parallel);
  const timeoutMs = opts.timeout === undefined ? undefined : Math.round(opts.timeout * 1000);
  const exits: number[] = [];
  const rows = await Promise.all(
    hosts.map((host) =>
      limiter.run(async (): Promise<TrustRow> => {
        let key: Buffer;
        try {
          key = await scanHostKey(host, { knownHosts: kh, opensshKnownHosts, timeoutMs });
        } catch (err) {
          const e = err instanceof OrchError ? err : new OrchError('INTERNAL', String(err), { cause: err });
          exits.push(exitCodeFor(e));
          return { host: host.name, result: 'error', error: { code: e.code, message: e.message } };
        }
        const base = { host: host.name, type: keyTypeOf(key), fingerprint: fingerprint(key) };
        // The file is re-read by check(), so hosts sharing an address see each other's additions.
        const verdict = kh.check(host, key);
        if (verdict.status === 'known') return { ...base, result: 'known' };
        if (verdict.status === 'unknown') {
          kh.add(host, key);
          return { ...base, result: 'trusted' };
        }
        const previous =
          verdict.status === 'changed'
            ? verdict.known.map(
                (e) => `${e.keyType} ${fingerprint(Buffer.from(e.keyBase64, 'base64'))} (line ${e.lineNo})`,
              )
            : [`@revoked at line ${verdict.entry.lineNo}`];
        // A revoked key stays refused: --replace removes the host's entries, never an @revoked line.
        if (verdict.status === 'changed' && opts.replace) {
          kh.replace(host, key);
          return { ...base, result: 'replaced', previous };
        }
        exits.push(EXIT.UNREACHABLE);
        return { ...base, result: 'refused', previous };
      }),
    ),
  );
  if (globalOptions(cmd).output === 'json') printJson({ file: project.knownHostsFile, hosts: rows });
  else {
    for (const r of rows) {
      if (r.result === 'error') {
        process.stdout.write(`${r.host}: error ${r.error!.code}: ${r.error!.message}\n`);
        continue;
      }
      const what = {
        trusted: 'trusted (recorded)',
        known: 'already trusted',
        replaced: `replaced (was ${r.previous?.join(', ')})`,
        refused: `REFUSED: differs from the recorded key ${r.previous?.join(', ')}; pass --replace if the change is expected`,
      }[r.result];
      process.stdout.write(`${r.host}: ${r.type} ${r.fingerprint} ${what}\n`);
    }
  }
  const code = exits.includes(EXIT.UNREACHABLE) ? EXIT.UNREACHABLE : Math.max(EXIT.OK, ...exits);
  if (code !== EXIT.OK) process.exitCode = code;
}

async function forgetAction(target: string, opts: TargetFlags, cmd: Command): Promise<void> {
  const { KnownHosts } = await import('../../transport/known-hosts.js');
  const project = projectFor(cmd);
  const hosts = await targets(project, target, opts);
  const kh = new KnownHosts(project.knownHostsFile);
  const rows = hosts.map((h) => {
    const removed = kh.forget(h);
    // Wildcard lines and @revoked/@cert-authority lines are not the host's own and stay.
    const remaining = kh.lookup(h).length;
    return { host: h.name, removed, remaining };
  });
  if (globalOptions(cmd).output === 'json') {
    printJson({ file: project.knownHostsFile, hosts: rows });
    return;
  }
  for (const r of rows) {
    const rest = r.remaining ? ` (${r.remaining} line(s) still match through patterns or markers)` : '';
    process.stdout.write(
      `${r.host}: ${r.removed ? `forgot ${r.removed} line(s)` : 'nothing recorded'}${rest}\n`,
    );
  }
}

/** Register `orch hostkeys` and its subverbs. */
export function register(program: Command): void {
  const hk = program
    .command('hostkeys')
    .description("show and manage the SSH host keys orch trusts (the project's known_hosts file)");
  hk.command('list')
    .description('list recorded host keys: all of them, or those of the targeted hosts')
    .argument('[target]', "host names, globs ('*.example.com', '*') or group:<name>, comma-separated")
    .option('-g, --group <name>', 'only hosts of this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .action(listAction);
  hk.command('trust')
    .description('fetch the host key of each targeted host (no login) and record it if none is recorded yet')
    .argument('<target>', "host names, globs ('*.example.com', '*') or group:<name>, comma-separated")
    .option('-g, --group <name>', 'only hosts of this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .option(
      '--replace',
      'replace a recorded key that differs (after checking the new fingerprint out of band)',
    )
    .option('--timeout <s>', 'seconds allowed to reach each host (default 10)', parseSeconds)
    .addHelpText(
      'after',
      "\nCompare the fingerprints shown with the hosts' own `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub`.",
    )
    .action(trustAction);
  hk.command('forget')
    .description(
      "remove the targeted hosts' recorded keys (their exact names and addresses; wildcard lines stay)",
    )
    .argument('<target>', "host names, globs ('*.example.com', '*') or group:<name>, comma-separated")
    .option('-g, --group <name>', 'only hosts of this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .action(forgetAction);
}

// `orch cp <target> <local> <remote>` and `orch cp --fetch <target> <remote> <local-dir>`: one file to or from many
// hosts, one connection each (an SFTP channel and at most one script on it). Parses argv and prints; the work per
// host is src/files/cp.ts.
import { statSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { OrchError, exitCodeFor } from '../../errors.js';
import { isOsAccount, modeSchema } from '../../states/common.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import { LIMIT_HELP, targetHosts } from '../targets.js';
import type { HostOutcome } from '../../transport/fleet.js';

interface CpOptions {
  group?: string;
  limit?: string;
  fetch?: boolean;
  owner?: string;
  mode?: string;
  become?: boolean;
  becomeUser?: string;
  acceptNewHostkeys?: boolean;
  stats?: boolean;
}

interface CpValue {
  changed?: boolean;
  localFile?: string;
  bytes: number;
}

function account(what: string): (v: string) => string {
  return (v) => {
    if (!isOsAccount(v))
      throw new InvalidArgumentError(`--${what} wants a ${what} name or numeric id, got '${v}'`);
    return v;
  };
}

function modeValue(v: string): string {
  const m = modeSchema.safeParse(v);
  if (!m.success) throw new InvalidArgumentError(`--mode wants an octal mode such as 0644, got '${v}'`);
  return m.data;
}

/** An absolute path on the host that a script can name (no NUL, no newline). */
function remotePath(p: string): string {
  if (!p.startsWith('/') || /[\0\n]/.test(p) || p.endsWith('/'))
    throw new OrchError('BAD_INPUT', `the path on the host must be an absolute file path, got '${p}'`);
  return path.posix.normalize(p);
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function statsText(o: HostOutcome<CpValue>): string {
  const s = o.stats;
  return `  stats: ${s.connections} connection(s), ${s.execs} exec round trip(s), ${s.sftp ?? 0} sftp channel(s)\n`;
}

/** Register `orch cp`. */
export function register(program: Command): void {
  program
    .command('cp')
    .description(
      'copy one file to the targeted hosts (or fetch one from each with --fetch), binary-safe, over SFTP',
    )
    .argument(
      '<target>',
      "host names, globs ('*.example.com', '*') or group:<name>, comma-separated (the file's group is --group)",
    )
    .argument('<from>', 'the local file (with --fetch: the absolute path on the hosts)')
    .argument(
      '<to>',
      'the absolute path on the hosts (with --fetch: a local directory; each host gets <dir>/<host>/)',
    )
    .option(
      '--fetch',
      'copy from the hosts: <dir>/<host>/<file name> for each host, so hosts never overwrite each other',
    )
    .option(
      '--owner <user>',
      'owner of the file on the hosts (default: kept, or the writing account for a new file)',
      account('owner'),
    )
    .option('--group <group>', 'group of the file on the hosts (default: kept)', account('group'))
    .option('--mode <mode>', 'octal mode of the file on the hosts (default 0644)', modeValue)
    .option('-l, --limit <target>', LIMIT_HELP)
    .option(
      '--become',
      "write or read under the host's become method (sudo or doas) as its become user (sudo to root when the inventory names none)",
    )
    .option(
      '--become-user <user>',
      "become this account (name or numeric id) instead of the inventory's become user; implies --become",
      (v: string) => {
        if (!isOsAccount(v))
          throw new InvalidArgumentError(`--become-user wants a user name or numeric id, got '${v}'`);
        return v;
      },
    )
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option('--stats', 'show connections, exec round trips and SFTP channels per host')
    .addHelpText(
      'after',
      `
Examples:
  orch cp 'web*' ./site.tar.gz /srv/site.tar.gz --owner www-data --mode 0640 --become
  orch cp db ./seed.dump /var/lib/postgresql/seed.dump --become-user postgres --mode 0600
  orch cp --fetch db /var/log/postgresql/postgresql-15-main.log ./logs

Sending is atomic on each host: the file goes over SFTP into the login user's private directory, then one script
copies it into a temp file beside the target, checks its sha256, sets owner and mode and renames it into place
(as the account that owns the target's directory). A file already as wanted is left alone (reported unchanged).
Under become to an account other than root (--become-user postgres), which cannot read the login user's private
directory, the bytes go over the command's own channel to a script run as that account, which writes the temp file
beside the target the same way; a fetch comes back the same way, its sha256 compared on both ends.

Exit: 0 every host done, 1 some host failed, 3 some host unreachable (connection, auth, host key), 4 bad arguments.`,
    )
    .action(async (target: string, from: string, to: string, opts: CpOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      const project = projectFor(cmd);
      const json = g.output === 'json';
      const become = opts.become === true || opts.becomeUser !== undefined;
      if (opts.fetch && (opts.owner || opts.group || opts.mode))
        throw new OrchError(
          'BAD_INPUT',
          '--owner, --group and --mode are for sending; --fetch stores files as you',
        );
      let send: { localFile: string; remote: string; sha256: string; bytes: number } | undefined;
      let fetch: { remote: string; localDir: string } | undefined;
      const { sha256OfFile, sendFile, fetchFile } = await import('../../files/cp.js');
      if (opts.fetch) fetch = { remote: remotePath(from), localDir: path.resolve(to) };
      else {
        const localFile = path.resolve(from);
        let st;
        try {
          st = statSync(localFile);
        } catch {
          throw new OrchError('BAD_INPUT', `no such local file: ${from}`);
        }
        if (!st.isFile()) throw new OrchError('BAD_INPUT', `${from} is not a regular file`);
        send = { localFile, remote: remotePath(to), sha256: await sha256OfFile(localFile), bytes: st.size };
      }
      const targeted = await targetHosts(
        project,
        target,
        { limit: opts.limit },
        { acceptNewHostKeys: opts.acceptNewHostkeys },
      );
      const becomeUser = opts.becomeUser;
      const hosts =
        becomeUser === undefined
          ? targeted.hosts
          : targeted.hosts.map((h) => ({
              ...h,
              become: { method: h.become?.method ?? ('sudo' as const), user: becomeUser },
            }));
      const { fleetOptionsFor, onEachHost } = await import('../../transport/fleet.js');
      const fleet = fleetOptionsFor(project, { acceptNewHostKeys: opts.acceptNewHostkeys });
      const started = Date.now();
      const outcomes = await onEachHost<CpValue>(
        hosts,
        fleet,
        async (conn) => {
          if (send) {
            const r = await sendFile(conn, {
              ...send,
              user: opts.owner,
              group: opts.group,
              mode: opts.mode,
              become,
            });
            return { changed: r.changed, bytes: send.bytes };
          }
          const r = await fetchFile(conn, fetch!.remote, fetch!.localDir, become);
          return { localFile: r.localFile, bytes: r.bytes };
        },
        {
          onDone: (o) => {
            if (json) return;
            const what = send ? send.remote : fetch!.remote;
            const line = o.ok
              ? o.value.localFile !== undefined
                ? `${o.host.name}: ${what} -> ${path.relative(process.cwd(), o.value.localFile) || o.value.localFile} (${size(o.value.bytes)}, ${o.ms} ms)`
                : `${o.host.name}: ${what} ${o.value.changed ? 'written' : 'unchanged'} (${size(o.value.bytes)}, ${o.ms} ms)`
              : `${o.host.name}: error ${o.error.code}: ${o.error.message}`;
            process.stdout.write(`${line}\n${opts.stats ? statsText(o) : ''}`);
          },
        },
      );
      const ok = outcomes.filter((o) => o.ok).length;
      const ms = Date.now() - started;
      if (json) {
        printJson({
          hosts: outcomes.map((o) => ({
            host: o.host.name,
            ok: o.ok,
            ...(o.ok ? o.value : { error: { code: o.error.code, message: o.error.message } }),
            stats: o.stats,
            ms: o.ms,
          })),
          summary: { hosts: outcomes.length, ok, failed: outcomes.length - ok, ms },
        });
      } else
        process.stdout.write(
          `${outcomes.length} host(s), ${ok} ok, ${outcomes.length - ok} failed (${ms} ms)\n`,
        );
      const codes = outcomes.map((o) => (o.ok ? EXIT.OK : exitCodeFor(o.error)));
      const code = codes.includes(EXIT.UNREACHABLE) ? EXIT.UNREACHABLE : Math.max(EXIT.OK, ...codes);
      if (code !== EXIT.OK) process.exitCode = code;
    });
}

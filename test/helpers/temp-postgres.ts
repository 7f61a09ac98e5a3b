// A throwaway PostgreSQL server for tests: initdb in a temp dir, listening only on a unix socket in that dir and on
// 127.0.0.1 at a free port, trust auth. Stopped with pg_ctl (fast); killed by its own pid only if that fails; the
// temp dir is removed. As root, the server binaries run as the `postgres` OS user. Touches nothing else.
import { execFile } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  appendFileSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
export const PG_BIN = process.env.ORCH_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TempPostgres {
  dir: string;
  dataDir: string;
  socketDir: string;
  port: number;
  /** URL over TCP on 127.0.0.1 for a database (default postgres), as superuser postgres. */
  url(db?: string): string;
  /** URL over the unix socket in the temp dir. */
  socketUrl(db?: string): string;
  /** Create an empty database and return its TCP URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function asPostgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root but there is no postgres OS user to run the server as');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Run a server binary, as the postgres OS user when we are root. */
async function pgBin(tool: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<string> {
  const bin = path.join(PG_BIN, tool);
  const [cmd, argv] = asPostgresUser() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    const { stdout } = await run(cmd, argv, {
      cwd,
      timeout: timeoutMs,
      env: { ...process.env, LC_ALL: 'C' },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${tool} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** Additions for a server that must do more than the default (e.g. act as a replication primary). */
export interface TempPostgresOptions {
  /** Extra postgresql.conf lines. */
  conf?: string[];
  /** pg_hba.conf lines placed before initdb's trust lines (first match wins). */
  hbaFirst?: string[];
}

/** Start a fresh server; call stop() in after(). */
export async function startTempPostgres(opts: TempPostgresOptions = {}): Promise<TempPostgres> {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) throw new Error(`no PostgreSQL server binaries in ${PG_BIN}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-pg-'));
  // The config file below quotes these paths; mkdtemp names never need escaping, but check rather than assume.
  if (!/^[\w/.-]+$/.test(dir)) throw new Error(`unexpected characters in temp dir ${dir}`);
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'sock');
  mkdirSync(dataDir, { mode: 0o700 });
  mkdirSync(socketDir, { mode: 0o700 });
  const owner = asPostgresUser();
  if (owner) for (const p of [dir, dataDir, socketDir]) chownSync(p, owner.uid, owner.gid);
  const port = await freePort();
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) {
      try {
        await pgBin('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop'], dir);
      } catch {
        killByPidFile(dataDir);
      }
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pgBin(
      'initdb',
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
      dir,
    );
    appendFileSync(
      path.join(dataDir, 'postgresql.conf'),
      [
        `listen_addresses = '127.0.0.1'`,
        `port = ${port}`,
        `unix_socket_directories = '${socketDir}'`,
        `fsync = off`,
        `synchronous_commit = off`,
        `full_page_writes = off`,
        `max_connections = 100`,
        ...(opts.conf ?? []),
        '',
      ].join('\n'),
    );
    if (opts.hbaFirst?.length) {
      const hba = path.join(dataDir, 'pg_hba.conf');
      writeFileSync(hba, `${opts.hbaFirst.join('\n')}\n${readFileSync(hba, 'utf8')}`);
    }
    await pgBin(
      'pg_ctl',
      ['-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start'],
      dir,
    );
    started = true;
  } catch (err) {
    await stop();
    throw err;
  }
  const url = (db = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  const socketUrl = (db = 'postgres'): string =>
    `postgres://postgres@/${encodeURIComponent(db)}?host=${encodeURIComponent(socketDir)}&port=${port}`;
  return {
    dir,
    dataDir,
    socketDir,
    port,
    url,
    socketUrl,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]*$/.test(name))
        throw new Error(`test database name must be a plain identifier: ${name}`);
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        // CREATE DATABASE takes no parameters; the name was checked to be a plain identifier above.
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
  };
}

/** Last resort when pg_ctl stop failed: kill the postmaster named in its own pid file, and only that. */
function killByPidFile(dataDir: string): void {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGKILL');
  } catch {
    // No pid file: the server is not running.
  }
}

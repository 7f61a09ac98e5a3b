// What the replication suites on lab hosts share: the demo identity that decrypts the repository's pillar secret,
// a throwaway project with the repository's formula for given lab hosts, shell and psql inside a host, and the
// JSON shapes of `apply` and `drift` they read.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import type { HostRunResult } from '../../src/engine/result.js';
import { execInHost, labDown, labStatus } from '../../src/lab/index.js';
import { REPO_ROOT } from './cli.js';

export interface ApplyReport {
  hosts: HostRunResult[];
}
export interface DriftJson {
  hosts: {
    host: string;
    status: string;
    drifted: { id: string; diff?: string; diverged?: string }[];
    errors: { state?: string; message: string }[];
    pg: { check: string; severity: string; message: string }[];
  }[];
}

/** The demo age identity (test/fixtures/secrets) that decrypts the replication password of pillar/postgres.yaml. */
export const DEMO_IDENTITY = readFileSync(
  path.join(REPO_ROOT, 'test/fixtures/secrets/demo-identity.txt'),
  'utf8',
)
  .split('\n')
  .find((l) => l.startsWith('AGE-SECRET-KEY-'))!;

/** Take these lab hosts down if they are up (fresh hosts for a test; none left behind). */
export async function downIfUp(names: string[], root: string): Promise<void> {
  const up = (await labStatus()).map((h) => h.name).filter((n) => names.includes(n));
  if (up.length) await labDown(up, { project: loadProject({ root }) });
}

/** `host state-id: comment` of every state that did not report clean. */
export function notClean(r: ApplyReport): string[] {
  return r.hosts.flatMap((h) =>
    h.states.filter((s) => s.status !== 'clean').map((s) => `${h.host} ${s.id}: ${s.comment}`),
  );
}

/** The output of a /bin/sh script run as root inside a lab host, trimmed (the exit code is not looked at). */
export async function sh(host: string, script: string): Promise<string> {
  const r = await execInHost(host, ['/bin/sh', '-c', script], { timeoutMs: 60_000 });
  return r.stdout.trim();
}

/** One SQL command run by psql as the postgres user on the host's default cluster; its unaligned output. */
export function psql(host: string, sql: string): Promise<string> {
  return sh(host, `su postgres -s /bin/sh -c ${JSON.stringify(`psql -X -At -c "${sql}"`)}`);
}

/** Poll `read` until it gives `want` (or the tries run out); the last value read. */
export async function waitUntil(
  want: string,
  read: () => Promise<string>,
  tries = 40,
  ms = 250,
): Promise<string> {
  let seen = '';
  for (let i = 0; i < tries; i++) {
    seen = await read().catch(() => '');
    if (seen === want) break;
    await new Promise((res) => setTimeout(res, ms));
  }
  return seen;
}

export interface FormulaHost {
  name: string;
  ip: string;
}

/** The repository's pillar/postgres.yaml with the lab's primary and replicas in place of the example hosts. */
export function formulaPillar(primary: FormulaHost, replicas: readonly FormulaHost[]): string {
  const text = readFileSync(path.join(REPO_ROOT, 'pillar/postgres.yaml'), 'utf8');
  const slot = (n: string): string => n.replace(/[^a-z0-9]/gi, '_').toLowerCase();
  const list = (entries: string[]): string => entries.map((e) => `    ${e}`).join('\n');
  const nodes = list([primary, ...replicas].map((h) => `${h.name}: ${h.ip}`));
  const slots = list(replicas.map((h) => `${h.name}: ${slot(h.name)}`));
  const out = text
    .replace(/^ {2}primary: primary\.example\.com$/m, `  primary: ${primary.name}`)
    .replace(/^ {2}nodes:\n(?: {4}.*\n)+/m, `  nodes:\n${nodes}\n`)
    .replace(/^ {2}slots:\n(?: {4}.*\n)+/m, `  slots:\n${slots}\n`);
  if (out.includes('example.com: 10.213.0.1'))
    throw new Error('pillar/postgres.yaml changed shape: update formulaPillar');
  return out;
}

/** Inventory of the formula's hosts: the lab's key, root, the db group and each host's role group. */
export function formulaInventory(primary: FormulaHost, replicas: readonly FormulaHost[]): string {
  const line = (h: FormulaHost, role: string): string =>
    `  ${h.name}:\n    address: ${h.ip}\n    groups: [db, ${role}]`;
  return [
    'defaults:',
    '  user: root',
    '  port: 22',
    '  identity: .orch/lab/id_ed25519',
    'hosts:',
    line(primary, 'pg_primary'),
    ...replicas.map((h) => line(h, 'pg_replica')),
    '',
  ].join('\n');
}

/** A temp project with the repository's states/, templates/ and pillar/top.yaml, and no hosts yet. */
export function formulaProjectDir(prefix: string): string {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  for (const dir of ['states', 'templates']) {
    cpSync(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
  }
  mkdirSync(path.join(root, 'pillar'));
  mkdirSync(path.join(root, 'inventory'));
  cpSync(path.join(REPO_ROOT, 'pillar/top.yaml'), path.join(root, 'pillar/top.yaml'));
  writeFileSync(path.join(root, 'inventory/hosts.yaml'), 'hosts: {}\n');
  return root;
}

/** Point the project at these hosts: the generated pillar and inventory. */
export function writeFormulaHosts(
  root: string,
  primary: FormulaHost,
  replicas: readonly FormulaHost[],
): void {
  writeFileSync(path.join(root, 'pillar/postgres.yaml'), formulaPillar(primary, replicas));
  writeFileSync(path.join(root, 'inventory/hosts.yaml'), formulaInventory(primary, replicas));
}

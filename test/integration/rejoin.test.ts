// orch pg rejoin on two light lab hosts with real PostgreSQL (a primary and a standby built by the formula): the
// standby stops receiving, the primary takes a row the standby never gets and is stopped, the standby is promoted
// and takes rows; `rejoin --test` changes no byte or mtime of the old primary's data and config directories; rejoin
// rewinds the old primary with pg_rewind (its diverged row is gone, so it was rewound, not merely started), it
// streams from the new primary and has every row written there, its own postgresql.auto.conf is kept, no base
// backup was taken (same inodes), and apply and drift are clean after; a lifecycle verb queued with --async is run
// by the background worker and its steps are in `orch jobs lookup`; the --on-event hook is told of the rejoin.
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { labUp, type LabHost } from '../../src/lab/index.js';
import { parseJson, runOrch, type CliResult } from '../helpers/cli.js';
import {
  DEMO_IDENTITY,
  downIfUp,
  formulaProjectDir,
  notClean,
  psql,
  sh,
  waitUntil,
  writeFormulaHosts,
  type ApplyReport,
  type FormulaHost,
} from '../helpers/formula-lab.js';

const P = 'rejp.example.com';
const A = 'reja.example.com';
const ALL = [P, A];
const DATA = '/var/lib/postgresql/15/main';
const CONF = '/etc/postgresql/15/main';

interface LifecycleJson {
  jid: string;
  state: string;
  steps: { host: string; step: string; status: string; detail: string }[];
  exit_code: number;
}

describe('pg rejoin on lab hosts (a promoted standby and its diverged old primary)', function () {
  this.timeout(900_000);
  let root: string;
  let hosts: LabHost[] = [];
  const orch = (...args: string[]): Promise<CliResult> =>
    runOrch(['--root', root, ...args], { env: { ORCH_AGE_IDENTITY: DEMO_IDENTITY }, timeoutMs: 300_000 });
  const count = (h: string, note: string) => psql(h, `SELECT count(*) FROM life WHERE note = '${note}'`);
  const snapshot = (h: string) =>
    sh(
      h,
      `find ${DATA} ${CONF} -type f -printf '%p %s %T@\\n' | sort; find ${DATA} ${CONF} -type f -exec md5sum {} + | sort`,
    );
  const inodes = (h: string) =>
    sh(h, `stat -c '%i' ${DATA} ${DATA}/PG_VERSION ${DATA}/base; ls -d ${DATA}.orch-* 2>/dev/null`);

  before(async () => {
    root = formulaProjectDir('orch-rejoin-it-');
    await downIfUp(ALL, root);
    hosts = await labUp(ALL, { project: loadProject({ root }) });
    const fh = (n: string): FormulaHost => ({ name: n, ip: hosts.find((h) => h.name === n)!.ip });
    writeFormulaHosts(root, fh(P), [fh(A)]);
    const r = await orch('apply', '*', '--accept-new-hostkeys', '--no-progress');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await psql(P, 'CREATE TABLE life (id serial PRIMARY KEY, note text)');
    await psql(P, "INSERT INTO life (note) VALUES ('before')");
    assert.equal(await waitUntil('1', () => count(A, 'before')), '1');
  });

  after(async () => {
    await downIfUp(ALL, root);
    rmSync(root, { recursive: true, force: true });
  });

  it('promote A with P stopped after P took a row A never got; rows written on A', async () => {
    await psql(A, "ALTER SYSTEM SET primary_conninfo = ''");
    await psql(A, 'SELECT pg_reload_conf()');
    assert.equal(await waitUntil('', () => psql(A, 'SELECT sender_host FROM pg_stat_wal_receiver')), '');
    await psql(P, "INSERT INTO life (note) VALUES ('only-on-p')");
    await psql(P, "ALTER SYSTEM SET work_mem = '7MB'"); // P's own postgresql.auto.conf, to be kept
    await sh(P, 'pg_ctlcluster 15 main stop -m fast');
    const r = await orch('pg', 'promote', A);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const note of ['on-a-1', 'on-a-2']) await psql(A, `INSERT INTO life (note) VALUES ('${note}')`);
    const refused = await orch('pg', 'rejoin', A);
    assert.equal(refused.code, 7, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /reja\.example\.com is the primary/);
  });

  it('rejoin --test changes no byte or mtime of the old primary', async () => {
    const before = await snapshot(P);
    const r = await orch('-o', 'json', 'pg', 'rejoin', P, '--test');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'unchanged');
    assert.ok(out.steps.some((s) => s.status === 'planned' && s.step === 'rewind' && s.host === P));
    assert.equal(await snapshot(P), before);
  });

  it('rejoin rewinds P, which streams from A with every row of A, keeping its own config; apply and drift clean', async () => {
    const ino = await inodes(P);
    const evFile = path.join(root, 'event.json');
    const r = await orch('-o', 'json', 'pg', 'rejoin', P, '--on-event', `cat > '${evFile}'`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'done');
    const ev = JSON.parse(readFileSync(evFile, 'utf8')) as {
      event: string;
      ok: boolean;
      jid: string;
      steps: { step: string }[];
    };
    assert.deepEqual([ev.event, ev.ok, ev.jid], ['rejoin', true, out.jid]);
    assert.ok(
      ev.steps.some((s) => s.step === 'rewind'),
      'the event carries the steps',
    );
    const dry = out.steps.find((s) => s.step === 'dry-run');
    assert.match(dry?.detail ?? '', /servers diverged at WAL location/);
    assert.equal(await psql(P, 'SELECT pg_is_in_recovery()'), 't');
    assert.equal(await waitUntil(A, () => psql(P, 'SELECT sender_host FROM pg_stat_wal_receiver')), A);
    await psql(A, "INSERT INTO life (note) VALUES ('after-rejoin')");
    for (const note of ['before', 'on-a-1', 'on-a-2', 'after-rejoin'])
      assert.equal(await waitUntil('1', () => count(P, note)), '1', note);
    assert.equal(await count(P, 'only-on-p'), '0', 'the diverged row is gone: P was rewound');
    assert.equal(await count(A, 'on-a-1'), '1', 'nothing written on A was lost');
    assert.equal(await psql(P, 'SHOW work_mem'), '7MB', "P's own postgresql.auto.conf was kept");
    assert.equal(await inodes(P), ino, 'same data directory: no base backup');
    const job = await orch('-o', 'json', 'jobs', 'lookup', out.jid);
    assert.equal(job.code, 0, job.stderr);
    assert.match(job.stdout, /"step": "rewind"/);

    const a = await orch('-o', 'json', 'apply', '*');
    assert.equal(a.code, 0, a.stderr);
    const report = parseJson<ApplyReport>(a);
    assert.deepEqual(
      report.hosts.flatMap((h) =>
        h.states.filter((s) => s.status === 'changed').map((s) => `${h.host} ${s.id}`),
      ),
      [],
      'apply changed nothing',
    );
    assert.deepEqual(notClean(report), []);
    const d = await orch('drift', '*', '--no-progress');
    assert.equal(d.code, 0, d.stdout + d.stderr);
  });

  it('pg follow --async is run by a worker; jobs lookup shows its steps', async () => {
    const q = await orch('-o', 'json', 'pg', 'follow', '--cluster-host', A, '--async');
    assert.equal(q.code, 0, q.stdout + q.stderr);
    const { jid } = parseJson<{ jid: string }>(q);
    const status = async () =>
      parseJson<{ status: string }>(await orch('-o', 'json', 'jobs', 'lookup', jid)).status;
    assert.equal(await waitUntil('succeeded', status, 120, 500), 'succeeded');
    const job = await orch('-o', 'json', 'jobs', 'lookup', jid);
    assert.match(job.stdout, /"step": "check"/);
    assert.match(job.stdout, /already streams from reja\.example\.com/);
  });
});

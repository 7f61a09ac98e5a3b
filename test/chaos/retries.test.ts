// --retries for connections that fail to open, for real over a loopback sshd: a host whose port refuses at first and
// is served (by a forwarder to the sshd) a moment later is reached with --retries and not without; a command that
// ran and failed is never run again; an authentication failure is not retried; a queued drift keeps its --retries.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { retryDelayMs } from '../../src/transport/fleet.js';
import { canRunLocalSshd, freePort, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';
import { cmdState, ensureBuilt, lookup, orch, writeProject } from './harness.js';

/** Forward `port` to the sshd from `afterMs` on (until then the port refuses); returns a closer. */
function lateForwarder(port: number, to: number, afterMs: number): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    const up = net.connect(to, '127.0.0.1');
    sockets.add(s).add(up);
    s.pipe(up).pipe(s);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  });
  const timer = setTimeout(() => server.listen(port, '127.0.0.1'), afterMs);
  return () =>
    new Promise<void>((r) => {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      if (server.listening) server.close(() => r());
      else r();
    });
}

describe('chaos: --retries for connections that fail to open', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  let n = 0;
  const closers: (() => Promise<void>)[] = [];

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    ensureBuilt();
    sshd = await startLocalSshd();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-chaos-retry-'));
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  after(async () => {
    await sshd?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A project with late.example.com on a port that refuses until `afterMs` (or forever without it). */
  async function project(afterMs?: number, identity?: string): Promise<{ root: string; out: string }> {
    const root = path.join(tmp, `p${++n}`);
    const out = path.join(tmp, `out${n}`);
    const port = await freePort();
    if (afterMs !== undefined) closers.push(lateForwarder(port, sshd!.port, afterMs));
    writeProject(
      root,
      sshd!,
      { s: cmdState('step', `mkdir -p ${out}; touch ${out}/applied`, `${out}/applied`) },
      { '*': ['s'] },
      'accept_new_hostkeys: true\njobs:\n  lease: 3s\n',
      { 'late.example.com': { address: '127.0.0.1', port, identity } },
    );
    return { root, out };
  }

  it('backs off 1 s, 2 s, 4 s ... and at most 30 s', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 10].map(retryDelayMs),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
    );
  });

  it('without --retries a refusing port is unreachable at once (exit 3)', async () => {
    const { root } = await project(60_000);
    const r = await orch(root, ['run', 'late.example.com', '--', 'true']);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout + r.stderr, /refused/i);
  });

  it('orch run --retries 3 reaches a host whose port opens after 1.5 s', async () => {
    const { root } = await project(1500);
    const t0 = Date.now();
    const r = await orch(root, ['run', 'late.example.com', '--retries', '3', '--', 'echo', 'hello']);
    const ms = Date.now() - t0;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /hello/);
    // The port refused for the first 1.5 s: only a later try (after a 1 s or 2 s pause) could get in.
    assert.ok(ms >= 1500, `backed off before reaching it (${ms} ms)`);
  });

  it('orch apply --retries 2 applies a host that comes up late; too few retries still fail (exit 3)', async () => {
    const few = await project(4000);
    const r1 = await orch(few.root, ['apply', 'late.example.com', '--retries', '1']);
    assert.equal(r1.code, 3, `1 retry (at 1 s) is not enough for a port opening at 4 s:\n${r1.stdout}`);
    const { root, out } = await project(1500);
    const r = await orch(root, ['apply', 'late.example.com', '--retries', '2']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(readFileSync(`${out}/applied`, 'utf8') === '', 'the state ran');
  });

  it('a command that ran and failed is not run again', async () => {
    const { root, out } = await project(0);
    const log = `${out}.log`;
    const r = await orch(root, [
      'run',
      'late.example.com',
      '--retries',
      '3',
      '--',
      'sh',
      '-c',
      `echo ran >> ${log}; exit 7`,
    ]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.equal(readFileSync(log, 'utf8'), 'ran\n');
  });

  it('an authentication failure is not retried', async () => {
    const { root } = await project(0, path.join(sshd!.dir, 'host_ed25519'));
    const t0 = Date.now();
    const r = await orch(root, ['run', 'late.example.com', '--retries', '3', '--', 'true']);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout + r.stderr, /authentication failed/);
    assert.ok(Date.now() - t0 < 2500, 'no back-off for a refused key');
  });

  it('orch drift --async --retries 3: the worker retries as the command would', async () => {
    const { root } = await project(1500);
    const q = await orch(root, ['drift', 'late.example.com', '--async', '--retries', '3']);
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    const w = await orch(root, ['jobs', 'wait', jid, '--timeout', '60']);
    assert.equal(w.code, 2, `drifted (the state is not applied), not unreachable:\n${w.stdout}\n${w.stderr}`);
    const job = await lookup(root, jid);
    assert.equal(job.args.retries, 3);
    assert.equal(job.hosts['late.example.com']?.status, 'drifted');
  });
});

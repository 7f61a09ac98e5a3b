// The scripts that move a file over the exec channel (src/shell/stream.ts), run on the local /bin/sh the way
// runStreamed drives them: the script first with stdin left open, the data only after the ready line. dash reads a
// script in blocks, so these also show that no data byte is read as script.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseBatchOutput, type StepOutput } from '../../../src/shell/protocol.js';
import { newNonce } from '../../../src/shell/script.js';
import {
  RECEIVE_PRELUDE,
  SEND_BACK_PRELUDE,
  readyLine,
  receiveStep,
  receiveToStageStep,
  sendBackStep,
  streamedBatch,
} from '../../../src/shell/stream.js';
import { becomesAnother } from '../../../src/files/streamed.js';
import { becomeArgv } from '../../../src/transport/ssh-connection.js';
import { WATCHDOG_PRELUDE } from '../../../src/transport/watchdog.js';
import { requireShellcheck, shellcheckFindings } from '../../helpers/shellcheck.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Ran {
  stdout: Buffer;
  stderr: string;
  /** What the controller did: sent the data, was told none is needed, or saw neither line. */
  fed: 'sent' | 'skipped' | 'no';
}

/** Run a script as runStreamed does: stdin open after it; `data` (cut to `cut` bytes) written on the ready line. */
function drive(script: string, data?: Buffer, cut?: number, env?: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const nonce = /ORCH_NONCE=([0-9a-f]+)/.exec(script)![1]!;
    const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    const out: Buffer[] = [];
    let err = '';
    let fed: Ran['fed'] = 'no';
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      if (fed !== 'no' || data === undefined) return;
      const text = Buffer.concat(out).toString('latin1');
      if (text.includes(readyLine(nonce, true))) {
        fed = 'sent';
        child.stdin.end(cut === undefined ? data : data.subarray(0, cut));
      } else if (text.includes(readyLine(nonce, false))) {
        fed = 'skipped';
        child.stdin.end();
      }
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ stdout: Buffer.concat(out), stderr: err, fed }));
    // The watchdog prelude too, as on a host (inert here: no controller pid is passed).
    if (data === undefined) child.stdin.end(WATCHDOG_PRELUDE + script);
    else child.stdin.write(WATCHDOG_PRELUDE + script);
  });
}

function step0(framing: string, nonce: string): StepOutput {
  const out = parseBatchOutput(framing, nonce).get(0);
  assert.ok(out, `the step ran: ${framing}`);
  return out;
}

describe('shell/stream: files over the exec channel', () => {
  let dir: string;
  let everyByte: Buffer;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-stream-'));
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    // Shell text in the data too: were it read as script, it would leave a file behind.
    everyByte = Buffer.concat([bytes, Buffer.from(`\ntouch ${dir}/pwned\n}\nexit\n`), bytes.reverse()]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const send = (file: string, data: Buffer, extra: { mode?: string; cut?: number } = {}) => {
    const nonce = newNonce();
    const body = receiveStep({ file, sha256: sha(data), mode: extra.mode ?? '0640' });
    return drive(streamedBatch(nonce, [{ index: 0, body }], RECEIVE_PRELUDE), data, extra.cut).then((r) => ({
      ...r,
      out: step0(r.stdout.toString('latin1'), nonce),
    }));
  };

  it('writes every byte value and a 3 MiB file byte for byte, with its mode, reading no data as script', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 7);
    for (const [name, data] of [
      ['every-byte.bin', everyByte],
      ['big.bin', big],
    ] as const) {
      const f = path.join(dir, name);
      const r = await send(f, data);
      assert.equal(r.fed, 'sent');
      assert.equal(r.out.status, 100, r.out.text + r.stderr);
      assert.ok(readFileSync(f).equals(data), `${name} arrived intact`);
      assert.equal(statSync(f).mode & 0o7777, 0o640);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['big.bin', 'every-byte.bin'], 'no temp file, nothing run');
  });

  it('asks for no data when the target already has the sha256, and leaves it alone', async () => {
    const f = path.join(dir, 'same.bin');
    assert.equal((await send(f, everyByte)).out.status, 100);
    const ino = statSync(f).ino;
    const again = await send(f, everyByte);
    assert.equal(again.fed, 'skipped');
    assert.equal(again.out.status, 0, again.out.text);
    assert.equal(statSync(f).ino, ino, 'not replaced');
    // The same bytes with another mode: still no data, the file gets the mode.
    const mode = await send(f, everyByte, { mode: '0600' });
    assert.equal(mode.fed, 'skipped');
    assert.equal(mode.out.status, 100);
    assert.equal(statSync(f).mode & 0o7777, 0o600);
  });

  it('fails on data cut short, keeping the old file and leaving no temp file', async () => {
    const f = path.join(dir, 'cut.bin');
    writeFileSync(f, 'old');
    const r = await send(f, everyByte, { cut: 100 });
    assert.equal(r.fed, 'sent');
    assert.equal(r.out.status, 1);
    assert.match(r.out.text, /does not have the sha256 that was sent/);
    assert.equal(readFileSync(f, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['cut.bin']);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`leaves no temp file when the script's shell gets ${signal} mid-transfer`, async () => {
      const f = path.join(dir, 'killed.bin');
      writeFileSync(f, 'old');
      const nonce = newNonce();
      const script = streamedBatch(
        nonce,
        [{ index: 0, body: receiveStep({ file: f, sha256: sha(everyByte), mode: '0600' }) }],
        RECEIVE_PRELUDE,
      );
      const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      child.stdout.on('data', (b: Buffer) => {
        const had = out.includes(readyLine(nonce, true));
        out += b.toString('latin1');
        if (had || !out.includes(readyLine(nonce, true))) return;
        // Half the data, the shell killed, then the channel gone (stdin ends), as on a timeout.
        child.stdin.write(everyByte.subarray(0, 200), () => {
          child.kill(signal);
          child.stdin.end();
        });
      });
      child.stdin.write(script);
      await closed;
      assert.ok(out.includes(readyLine(nonce, true)), 'the data was asked for');
      assert.equal(readFileSync(f, 'utf8'), 'old');
      assert.deepEqual(readdirSync(dir), ['killed.bin'], 'the step removed its temp file');
    });
  }

  it('never asks for data when the step fails first (no directory): the shell still ends', async () => {
    const r = await send(path.join(dir, 'missing', 'x.bin'), everyByte);
    assert.equal(r.fed, 'no');
    assert.equal(r.out.status, 1);
    assert.match(r.out.text, /does not exist/);
  });

  it('stages sources in a new private directory, then checks the directory it is given', async () => {
    const env = { ...process.env, TMPDIR: dir };
    const nonce = newNonce();
    const first = await drive(
      streamedBatch(
        nonce,
        [{ index: 0, body: receiveToStageStep(undefined, sha(everyByte)) }],
        RECEIVE_PRELUDE,
      ),
      everyByte,
      undefined,
      env,
    );
    const out = step0(first.stdout.toString('latin1'), nonce);
    assert.equal(out.status, 0, out.text);
    const stage = out.kv.dir!;
    try {
      assert.match(stage, /^\/tmp\/orch-xfer-[A-Za-z0-9]{10}$/);
      assert.equal(statSync(stage).mode & 0o777, 0o700);
      assert.ok(readFileSync(path.join(stage, sha(everyByte))).equals(everyByte));
      const other = Buffer.from('second source\n');
      const n2 = newNonce();
      const second = await drive(
        streamedBatch(n2, [{ index: 0, body: receiveToStageStep(stage, sha(other)) }], RECEIVE_PRELUDE),
        other,
      );
      assert.equal(step0(second.stdout.toString('latin1'), n2).status, 0);
      assert.ok(readFileSync(path.join(stage, sha(other))).equals(other));
      // A directory others can enter or write is not taken as the staging directory.
      const open = path.join(dir, 'open');
      mkdirSync(open);
      chmodSync(open, 0o755);
      const n3 = newNonce();
      const refused = await drive(
        streamedBatch(n3, [{ index: 0, body: receiveToStageStep(open, sha(other)) }], RECEIVE_PRELUDE),
        other,
      );
      const r3 = step0(refused.stdout.toString('latin1'), n3);
      assert.equal(refused.fed, 'no');
      assert.equal(r3.status, 1);
      assert.match(r3.text, /is not private/);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
    assert.throws(() => receiveToStageStep(undefined, 'x; rm -rf /'), /not a sha256/);
  });

  it('sends a file back raw on stdout, with the sha256 of what it sent in the framing on stderr', async () => {
    const env = { ...process.env, TMPDIR: dir };
    const big = randomBytes(2 * 1024 * 1024 + 3);
    const f = path.join(dir, 'back.bin');
    for (const data of [everyByte, big, Buffer.alloc(0)]) {
      writeFileSync(f, data);
      const nonce = newNonce();
      const r = await drive(
        streamedBatch(nonce, [{ index: 0, body: sendBackStep(f) }], SEND_BACK_PRELUDE),
        undefined,
        undefined,
        env,
      );
      assert.ok(r.stdout.equals(data), 'stdout is the file, nothing else');
      const out = step0(r.stderr, nonce);
      assert.equal(out.status, 0, out.text);
      assert.equal(out.kv.sha256, sha(data));
    }
    assert.deepEqual(readdirSync(dir), ['back.bin'], 'the fifo directory is removed');
    const nonce = newNonce();
    const missing = await drive(
      streamedBatch(nonce, [{ index: 0, body: sendBackStep(path.join(dir, 'nope')) }], SEND_BACK_PRELUDE),
    );
    assert.equal(missing.stdout.length, 0);
    assert.match(step0(missing.stderr, nonce).text, /does not exist/);
  });

  it('is one compound command that ends the shell', () => {
    const s = streamedBatch('00ff', [{ index: 0, body: 'true' }], RECEIVE_PRELUDE);
    assert.ok(s.startsWith('{\n'));
    assert.ok(s.endsWith('\nexit\n}\n'));
    assert.equal(readyLine('00ff', true), '@@ORCH:00ff:kvt:ready:1\n');
  });

  it('passes shellcheck', function () {
    requireShellcheck(this);
    for (const body of [
      receiveStep({ file: "/var/lib/post gres/it's.bin", sha256: 'a'.repeat(64), mode: '0600' }),
      receiveToStageStep(undefined, 'b'.repeat(64)),
      receiveToStageStep('/tmp/orch-xfer-abc', 'b'.repeat(64)),
      sendBackStep('/var/lib/postgresql/x y'),
    ])
      assert.equal(shellcheckFindings(streamedBatch('0123abcd', [{ index: 0, body }], RECEIVE_PRELUDE)), '');
  });
});

describe('become to another account', () => {
  it('names a numeric become user as #uid for sudo and as it is for doas', () => {
    assert.deepEqual(becomeArgv({ become: { method: 'sudo', user: '1001' } }, undefined), [
      'sudo',
      '-n',
      '-u',
      '#1001',
    ]);
    assert.deepEqual(becomeArgv({ become: { method: 'doas', user: '1001' } }, undefined), [
      'doas',
      '-n',
      '-u',
      '1001',
    ]);
    assert.deepEqual(becomeArgv({ become: { method: 'sudo', user: 'postgres' } }, true), [
      'sudo',
      '-n',
      '-u',
      'postgres',
    ]);
  });

  it('streams only for become to an account that is neither root nor the login user', () => {
    const host = (user: string, to?: string) => ({
      user,
      ...(to ? { become: { method: 'sudo' as const, user: to } } : {}),
    });
    assert.equal(becomesAnother(host('deploy', 'postgres'), undefined), true);
    assert.equal(becomesAnother(host('root', 'postgres'), true), true);
    assert.equal(becomesAnother(host('deploy', '1001'), true), true);
    assert.equal(becomesAnother(host('deploy', 'postgres'), false), false, 'become not asked for');
    assert.equal(becomesAnother(host('deploy', 'root'), true), false);
    assert.equal(becomesAnother(host('deploy', '0'), true), false);
    assert.equal(becomesAnother(host('deploy', 'deploy'), true), false);
    assert.equal(becomesAnother(host('deploy'), true), false, 'sudo to root by default');
    assert.equal(becomesAnother(host('deploy'), undefined), false, 'no become');
  });
});

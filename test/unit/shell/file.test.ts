// The one atomic write and the one file probe (src/shell/file.ts), run in real batches on the local /bin/sh, and
// the run-as helper every psql call goes through.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  linkSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  readdirSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { buildBatch, newNonce } from '../../../src/shell/script.js';
import { parseBatchOutput, type StepOutput } from '../../../src/shell/protocol.js';
import {
  atomicWrite,
  fileProbe,
  readFileProbe,
  type AtomicWriteOptions,
  type FileProbe,
} from '../../../src/shell/file.js';
import { printContent, shQuote } from '../../../src/shell/quote.js';
import { RUN_AS_FUNCTION } from '../../../src/shell/actor.js';

function run(body: string): StepOutput {
  const nonce = newNonce();
  const stdout = execFileSync('/bin/sh', ['-s'], {
    input: buildBatch(nonce, [{ index: 0, body }]),
  }).toString();
  const out = parseBatchOutput(stdout, nonce).get(0);
  assert.ok(out, 'the step ran');
  return out;
}

/** The probe's report, which must read. */
function probe(out: StepOutput): FileProbe {
  const r = readFileProbe(out);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.kv;
}

const sha = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');

describe('shell/file: the file probe', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-probe-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a regular file with stat, hash and content; a missing one with its parent', () => {
    const f = path.join(dir, 'a.conf');
    writeFileSync(f, 'x = 1\n', { mode: 0o640 });
    const s = probe(run(fileProbe(f, { content: 'always' })));
    assert.equal(s.exists, 'file');
    assert.equal(s.mode, '640');
    assert.equal(s.user, os.userInfo().username);
    assert.equal(s.sha256, sha('x = 1\n'));
    assert.equal(s.content, 'x = 1\n');
    assert.equal(s.differs, false);
    const none = probe(run(fileProbe(path.join(dir, 'nope'), { content: 'always' })));
    assert.deepEqual(none, { exists: 'none', differs: false, parent: true });
    const deep = probe(run(fileProbe(path.join(dir, 'no/such'), { content: 'always' })));
    assert.equal(deep.parent, false);
  });

  it('a symbolic link, even to a regular file, is "other" and is not read', () => {
    const f = path.join(dir, 'real');
    writeFileSync(f, 'secret\n');
    symlinkSync(f, path.join(dir, 'link'));
    const out = run(fileProbe(path.join(dir, 'link'), { content: 'always' }));
    assert.equal(probe(out).exists, 'other');
    assert.equal(out.kv.content, undefined);
  });

  it('with the wanted hash: says differs, and sends the content only when asked and only then', () => {
    const f = path.join(dir, 'b');
    writeFileSync(f, 'old\n');
    const never = run(fileProbe(f, { expectSha: sha('new\n'), content: 'never' })).kv;
    assert.equal(never.differs, '1');
    assert.equal(never.content, undefined, 'never means never');
    assert.equal(never.sha256, undefined, 'the host hash is not reported when orch compares');
    const ifDiffers = run(fileProbe(f, { expectSha: sha('new\n'), content: 'if-differs' })).kv;
    assert.equal(ifDiffers.content, 'old\n');
    const same = run(fileProbe(f, { expectSha: sha('old\n'), content: 'if-differs' })).kv;
    assert.equal(same.differs, undefined);
    assert.equal(same.content, undefined);
    const big = run(fileProbe(f, { expectSha: sha('new\n'), content: 'if-differs', maxBytes: 2 })).kv;
    assert.equal(big.differs, '1');
    assert.equal(big.content, undefined, 'larger than maxBytes: not read');
  });

  it('an unknown or misspelled exists value is an error naming it, never a missing file', () => {
    const unknown = readFileProbe({ kv: { exists: 'nonee' } });
    assert.ok(!unknown.ok && /exists="nonee"/.test(unknown.error), JSON.stringify(unknown));
    const misspelled = readFileProbe({ kv: { exist: 'none' } });
    assert.ok(!misspelled.ok && /no exists/.test(misspelled.error), JSON.stringify(misspelled));
  });
});

describe('shell/file: the atomic write', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-write-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (f: string, content: string, o: Partial<AtomicWriteOptions> = {}) =>
    run(`f=${shQuote(f)}; d=${shQuote(dir)}; orch_old="$f.old"
${atomicWrite({ fileVar: 'f', dirVar: 'd', tmpVar: 'tmp', produce: printContent(content, '> "$tmp"'), ...o })}
orch_kv changed "$orch_changed"`);

  it('creates, keeps the old mode on rewrite, changes nothing when equal, and leaves no temp file', () => {
    const f = path.join(dir, 'f');
    assert.equal(write(f, 'one\n', { mode: '0640' }).kv.changed, '1');
    assert.equal(statSync(f).mode & 0o777, 0o640);
    assert.equal(write(f, 'two\n').kv.changed, '1');
    assert.equal(readFileSync(f, 'utf8'), 'two\n');
    assert.equal(statSync(f).mode & 0o777, 0o640, 'the existing mode is kept');
    const same = write(f, 'two\n', { same: 'echo already' });
    assert.equal(same.kv.changed, '0');
    assert.match(same.text, /already/);
    assert.deepEqual(readdirSync(dir).sort(), ['f']);
  });

  it('keeps a hard link to the old file as the backup and can make its temp file beside the target', () => {
    const f = path.join(dir, 'g');
    writeFileSync(f, 'before\n');
    const before = statSync(f).ino;
    const out = write(f, 'after\n', { temp: 'beside', backupVar: 'orch_old', replaced: 'echo replaced' });
    assert.equal(out.kv.changed, '1');
    assert.match(out.text, /replaced/);
    assert.equal(readFileSync(`${f}.old`, 'utf8'), 'before\n');
    assert.equal(statSync(`${f}.old`).ino, before, 'a hard link, not a copy');
    assert.equal(readFileSync(f, 'utf8'), 'after\n');
  });

  it("owner 'writer' sets the mode it is given, even over a file that had another", () => {
    const f = path.join(dir, 'h');
    writeFileSync(f, 'x', { mode: 0o600 });
    linkSync(f, path.join(dir, 'other-name'));
    assert.equal(write(f, 'script\n', { owner: 'writer', mode: '0750' }).kv.changed, '1');
    assert.equal(statSync(f).mode & 0o777, 0o750);
    assert.equal(
      readFileSync(path.join(dir, 'other-name'), 'utf8'),
      'x',
      'renamed over, never written in place',
    );
  });
});

describe('shell/actor: orch_run_as', () => {
  it('runs a command with its arguments as words, as ourselves when the user is us or empty', () => {
    const me = os.userInfo().username;
    for (const u of ['', me]) {
      const out = execFileSync('/bin/sh', [
        '-c',
        `${RUN_AS_FUNCTION}\norch_run_as ${shQuote(u)} printf '<%s>' 'a b' '$(id)' "it's"`,
      ]).toString();
      assert.equal(out, "<a b><$(id)><it's>");
    }
  });

  it('runs as another account when root (runuser here), arguments intact', function () {
    if (process.getuid?.() !== 0) this.skip();
    const out = execFileSync('/bin/sh', [
      '-c',
      `${RUN_AS_FUNCTION}\norch_run_as nobody sh -c 'id -un; printf "<%s>" "$@"' sh 'a b' '$x'`,
    ]).toString();
    assert.equal(out, 'nobody\n<a b><$x>');
  });

  it('falls back to su -m where neither runuser nor setpriv is found, option-like arguments intact', function () {
    if (process.getuid?.() !== 0) this.skip();
    let shell = '';
    try {
      shell = execFileSync('getent', ['passwd', 'postgres']).toString().trim().split(':').pop() ?? '';
    } catch {
      this.skip();
    }
    if (!/\/(ba|da)?sh$/.test(shell)) this.skip();
    // A PATH with only what the helper needs: no runuser, no setpriv.
    const bin = mkdtempSync(path.join(os.tmpdir(), 'orch-bin-'));
    chmodSync(bin, 0o755); // postgres runs the tools from it
    try {
      for (const t of ['id', 'su', 'sh', 'uname']) {
        symlinkSync(
          execFileSync('/bin/sh', ['-c', `command -v ${t}`])
            .toString()
            .trim(),
          path.join(bin, t),
        );
      }
      const out = execFileSync('/bin/sh', [
        '-c',
        `${RUN_AS_FUNCTION}\nPATH=${bin}\norch_run_as postgres sh -c 'id -un; printf "<%s>" "$@"' sh 'a b' -c '$x'`,
      ]).toString();
      assert.equal(out, 'postgres\n<a b><-c><$x>', "a -c among the arguments is not su's");
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

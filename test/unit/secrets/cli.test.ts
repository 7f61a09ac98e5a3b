import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decryptValue, encryptValue } from '../../../src/secrets/crypto.js';
import { newKey, skeleton, tempProject, tokensOf, type Key, type TempProject } from './helpers.js';

/** orch's temp dirs left in dir (tsx keeps its own cache there too). */
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('orch-secrets-'));

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('orch secrets (CLI)', function () {
  this.timeout(60_000);
  let t: TempProject;
  let k: Key;

  beforeEach(async () => {
    k = await newKey();
    t = tempProject([k.recipient]);
  });
  afterEach(() => t.cleanup());

  function orch(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: repo,
      input: opts.input ?? '',
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        HOME: t.dir,
        XDG_CONFIG_HOME: path.join(t.dir, 'config'),
        ORCH_ROOT: t.dir,
        ...opts.env,
      },
    });
    return { code: res.status, stdout: res.stdout, stderr: res.stderr };
  }

  it('encrypt reads the plaintext from stdin, trims one newline, prints a !secret line', async () => {
    const out = orch(['secrets', 'encrypt'], { input: 'stdin-secret-value\n\n' });
    assert.equal(out.code, 0, out.stderr);
    const m = /^!secret ([A-Za-z0-9+/=]+)\n$/.exec(out.stdout);
    assert.ok(m, out.stdout);
    assert.equal(await decryptValue(m[1]!, [k.identity]), 'stdin-secret-value\n');
    assert.ok(!out.stdout.includes('stdin-secret-value') && !out.stderr.includes('stdin-secret-value'));

    const json = orch(['-o', 'json', 'secrets', 'encrypt'], { input: 'json-secret' });
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { yaml: string; recipients: string[] };
    assert.deepEqual(parsed.recipients, [k.recipient]);
    assert.equal(await decryptValue(parsed.yaml.replace('!secret ', ''), [k.identity]), 'json-secret');
  });

  it('encrypt takes no plaintext from argv and refuses short values', () => {
    const argv = orch(['secrets', 'encrypt', 'argv-secret'], { input: 'ignored-value' });
    assert.equal(argv.code, 4);
    assert.equal(argv.stdout, '');
    const short = orch(['secrets', 'encrypt'], { input: 'abc\n' });
    assert.equal(short.code, 4);
    assert.match(short.stderr, /at least 4 characters/);
  });

  it('keygen writes a private identity and prints its recipient; refuses to overwrite', () => {
    const out = orch(['secrets', 'keygen']);
    assert.equal(out.code, 0, out.stderr);
    const file = path.join(t.dir, 'config', 'orch', 'identity.txt');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.match(out.stdout, /^age1[a-z0-9]+\n$/);
    assert.ok(readFileSync(file, 'utf8').includes(`# public key: ${out.stdout.trim()}`));
    assert.ok(!out.stdout.includes('AGE-SECRET-KEY') && !out.stderr.includes('AGE-SECRET-KEY'));
    const again = orch(['secrets', 'keygen']);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /already exists/);

    const custom = orch(['secrets', 'keygen', '--out', path.join(t.dir, 'k', 'id.txt')]);
    assert.equal(custom.code, 0, custom.stderr);
    assert.ok(existsSync(path.join(t.dir, 'k', 'id.txt')));
  });

  it('recipients list, add and remove', async () => {
    const b = await newKey();
    assert.equal(orch(['secrets', 'recipients', 'add', b.recipient]).code, 0);
    const list = orch(['-o', 'json', 'secrets', 'recipients', 'list']);
    assert.deepEqual(JSON.parse(list.stdout), [k.recipient, b.recipient]);
    assert.equal(orch(['secrets', 'recipients', 'remove', k.recipient]).code, 0);
    assert.equal(orch(['secrets', 'recipients', 'list']).stdout, `${b.recipient}\n`);
    assert.equal(orch(['secrets', 'recipients', 'remove', k.recipient]).code, 4);
    assert.equal(orch(['secrets', 'recipients', 'add', 'age1bogus']).code, 4);
  });

  it('check exits 0 when every secret decrypts and 4 listing file:line otherwise', async () => {
    const stranger = await newKey();
    const good = await encryptValue('good-secret', [k.recipient]);
    writeFileSync(path.join(t.dir, 'pillar', 'a.yaml'), `a: !secret ${good}\n`);
    const env = { ORCH_AGE_IDENTITY: k.identity };
    const ok = orch(['secrets', 'check'], { env });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /1\/1 secrets in 1 files decrypt with env ORCH_AGE_IDENTITY/);

    const bad = await encryptValue('bad-secret', [stranger.recipient]);
    mkdirSync(path.join(t.dir, 'pillar', 'sub'));
    writeFileSync(path.join(t.dir, 'pillar', 'sub', 'b.yaml'), `# x\nb: !secret ${bad}\n`);
    const fail = orch(['secrets', 'check'], { env });
    assert.equal(fail.code, 4);
    assert.match(fail.stdout, /^pillar\/sub\/b\.yaml:2: encrypted to other recipients/m);
    assert.ok(!fail.stdout.includes(bad) && !fail.stdout.includes('bad-secret'));

    const noId = orch(['secrets', 'check']);
    assert.equal(noId.code, 4);
    assert.match(noId.stderr, /no age identity/);
  });

  it('edit runs $EDITOR on a private temp copy that is gone afterwards, also on failure', async () => {
    const [a, b] = await Promise.all([
      encryptValue('first-value', [k.recipient]),
      encryptValue('second-value', [k.recipient]),
    ]);
    const file = path.join(t.dir, 'pillar', 'p.yaml');
    const original = `x: !secret ${a}\ny: !secret ${b}\n`;
    writeFileSync(file, original);
    const tmp = path.join(t.dir, 'tmp');
    mkdirSync(tmp);
    const script = path.join(t.dir, 'ed.sh');
    writeFileSync(
      script,
      `#!/bin/sh\nsed -i 's/"second-value"/"second-changed"/' "$1"\n[ -n "$ED_RECORD" ] && printf '%s' "$1" > "$ED_RECORD"\nexit "\${ED_EXIT:-0}"\n`,
    );
    chmodSync(script, 0o755);
    const env = { ORCH_AGE_IDENTITY: k.identity, EDITOR: script, TMPDIR: tmp };

    const failed = orch(['secrets', 'edit', 'pillar/p.yaml'], { env: { ...env, ED_EXIT: '1' } });
    assert.equal(failed.code, 4);
    assert.equal(readFileSync(file, 'utf8'), original);
    assert.deepEqual(leftovers(tmp), []);

    const seen = path.join(t.dir, 'seen');
    const ok = orch(['secrets', 'edit', 'pillar/p.yaml'], { env: { ...env, ED_RECORD: seen } });
    assert.match(readFileSync(seen, 'utf8'), /orch-secrets-/, 'the editor ran on a file under TMPDIR');
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(leftovers(tmp), []);
    const after = readFileSync(file, 'utf8');
    assert.equal(skeleton(after), skeleton(original));
    assert.equal(tokensOf(after)[0], a);
    assert.equal(await decryptValue(tokensOf(after)[1]!, [k.identity]), 'second-changed');
  });

  it('rekey re-encrypts in place to the current recipients', async () => {
    const b = await newKey();
    const ct = await encryptValue('rekey-me-please', [k.recipient]);
    const file = path.join(t.dir, 'pillar', 'r.yaml');
    writeFileSync(file, `# keep me\nr: !secret ${ct}  # and me\n`);
    assert.equal(orch(['secrets', 'recipients', 'add', b.recipient]).code, 0);
    const out = orch(['secrets', 'rekey'], { env: { ORCH_AGE_IDENTITY: k.identity } });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /1 secrets in 1 files now encrypted to 2 recipients/);
    const after = readFileSync(file, 'utf8');
    assert.equal(skeleton(after), skeleton(`# keep me\nr: !secret ${ct}  # and me\n`));
    assert.equal(await decryptValue(tokensOf(after)[0]!, [b.identity]), 'rekey-me-please');
  });

  it('every subverb has help', () => {
    for (const sub of [
      [],
      ['keygen'],
      ['encrypt'],
      ['edit'],
      ['recipients'],
      ['recipients', 'add'],
      ['rekey'],
      ['check'],
    ]) {
      const out = orch(['secrets', ...sub, '--help']);
      assert.equal(out.code, 0, `${sub.join(' ')}: ${out.stderr}`);
      assert.match(out.stdout, /Usage: orch secrets/);
    }
  });
});

import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultIdentityFile, loadIdentities, recipientsOf } from '../../../src/secrets/identity.js';
import { writeNewIdentity } from '../../../src/secrets/keygen.js';
import { newKey } from './helpers.js';

describe('secrets/identity', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-identity-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function writeKeyFile(name: string, text: string, mode: number): string {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    chmodSync(file, mode);
    return file;
  }

  it('takes ORCH_AGE_IDENTITY first, then ORCH_AGE_IDENTITY_FILE, then the XDG default', async () => {
    const a = await newKey();
    const b = await newKey();
    const c = await newKey();
    const fileB = writeKeyFile('b.txt', `${b.identity}\n`, 0o600);
    mkdirSync(path.join(dir, 'xdg', 'orch'), { recursive: true });
    writeKeyFile('xdg/orch/identity.txt', `${c.identity}\n`, 0o600);
    const xdg = path.join(dir, 'xdg');

    const all = { ORCH_AGE_IDENTITY: a.identity, ORCH_AGE_IDENTITY_FILE: fileB, XDG_CONFIG_HOME: xdg };
    assert.deepEqual(await loadIdentities(all), {
      identities: [a.identity],
      source: 'env ORCH_AGE_IDENTITY',
    });
    const noInline = { ORCH_AGE_IDENTITY_FILE: fileB, XDG_CONFIG_HOME: xdg };
    assert.deepEqual(await loadIdentities(noInline), { identities: [b.identity], source: fileB });
    const onlyDefault = { XDG_CONFIG_HOME: xdg };
    assert.equal(defaultIdentityFile(onlyDefault), path.join(xdg, 'orch', 'identity.txt'));
    assert.deepEqual((await loadIdentities(onlyDefault)).identities, [c.identity]);
  });

  it('reads several identities per file, skipping comments and blank lines', async () => {
    const a = await newKey();
    const b = await newKey();
    const file = writeKeyFile(
      'keys.txt',
      `# created: now\n# public key: ${a.recipient}\n${a.identity}\n\n${b.identity}\n`,
      0o600,
    );
    const { identities } = await loadIdentities({ ORCH_AGE_IDENTITY_FILE: file });
    assert.deepEqual(identities, [a.identity, b.identity]);
    assert.deepEqual(await recipientsOf(identities), [a.recipient, b.recipient]);
  });

  it('refuses an identity file readable by group or others', async () => {
    const a = await newKey();
    const file = writeKeyFile('open.txt', `${a.identity}\n`, 0o644);
    await assert.rejects(
      loadIdentities({ ORCH_AGE_IDENTITY_FILE: file }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'SECRET_ERROR');
        assert.match(err.message, /mode 0644/);
        assert.match(err.message, /chmod 600/);
        assert.ok(!err.message.includes(a.identity));
        return true;
      },
    );
    chmodSync(file, 0o640);
    await assert.rejects(loadIdentities({ ORCH_AGE_IDENTITY_FILE: file }), /mode 0640/);
  });

  it('names the line of a malformed key without echoing it', async () => {
    const file = writeKeyFile('bad.txt', '# comment\nAGE-SECRET-KEY-1NOTAREALKEY\n', 0o600);
    await assert.rejects(loadIdentities({ ORCH_AGE_IDENTITY_FILE: file }), (err: Error) => {
      assert.match(err.message, /bad\.txt:2/);
      assert.ok(!err.message.includes('NOTAREALKEY'));
      return true;
    });
    const empty = writeKeyFile('empty.txt', '# nothing\n', 0o600);
    await assert.rejects(loadIdentities({ ORCH_AGE_IDENTITY_FILE: empty }), /no age identity found/);
  });

  it('says how to get an identity when there is none', async () => {
    await assert.rejects(
      loadIdentities({ XDG_CONFIG_HOME: path.join(dir, 'none') }),
      /no age identity: set ORCH_AGE_IDENTITY/,
    );
  });

  it('keygen writes a 0600 file in a new 0700 directory and refuses to overwrite', async () => {
    const file = path.join(dir, 'new', 'orch', 'identity.txt');
    const created = await writeNewIdentity(file);
    assert.match(created.recipient, /^age1/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.match(
      readFileSync(file, 'utf8'),
      new RegExp(`# public key: ${created.recipient}\\nAGE-SECRET-KEY-1`),
    );
    const { identities } = await loadIdentities({ ORCH_AGE_IDENTITY_FILE: file });
    assert.deepEqual(await recipientsOf(identities), [created.recipient]);
    const before = readFileSync(file, 'utf8');
    await assert.rejects(writeNewIdentity(file), /already exists/);
    assert.equal(readFileSync(file, 'utf8'), before);
  });
});

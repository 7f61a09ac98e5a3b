import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decryptValue, encryptValue } from '../../../src/secrets/crypto.js';
import { checkPillar } from '../../../src/secrets/check.js';
import { removeRecipient } from '../../../src/secrets/recipients.js';
import { rekeyPillar } from '../../../src/secrets/rekey.js';
import { envWith, newKey, skeleton, tempProject, tokensOf, type TempProject } from './helpers.js';

describe('secrets/rekey and check', () => {
  let t: TempProject;
  afterEach(() => t.cleanup());

  async function pillarFile(rel: string, recipients: string[], values: string[]): Promise<string> {
    const cts = await Promise.all(values.map((v) => encryptValue(v, recipients)));
    const text = [
      '# postgres pillar   (odd  spacing and comments must survive)',
      'postgres:',
      '  version: 16',
      '  replication:',
      "    user: 'replicator'",
      `    password: !secret ${cts[0]}   # rotate yearly`,
      `  admin: { name: postgres, password: !secret ${cts[1]} }`,
      '  list:',
      `    - !secret ${cts[2]}`,
      '    - plain value',
      '',
    ].join('\r\n');
    const file = path.join(t.dir, 'pillar', rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  it('re-encrypts to the current recipients, keeping every other byte', async () => {
    const alice = await newKey();
    const bob = await newKey();
    t = tempProject([alice.recipient, bob.recipient]);
    const values = ['repl-password-1', 'admin-password-2', 'list-secret-3'];
    const file = await pillarFile('postgres.yaml', [alice.recipient, bob.recipient], values);
    const nested = await pillarFile('sub/dir/other.yml', [alice.recipient, bob.recipient], values);
    const before = readFileSync(file, 'utf8');

    // Bob leaves the team: remove him, rekey with Alice's identity.
    assert.equal(await removeRecipient(t.project, bob.recipient), true);
    const result = await rekeyPillar(t.project, envWith([alice.identity]));
    assert.deepEqual(result.files, [
      { file: 'pillar/postgres.yaml', secrets: 3 },
      { file: path.join('pillar', 'sub', 'dir', 'other.yml'), secrets: 3 },
    ]);

    for (const f of [file, nested]) {
      const after = readFileSync(f, 'utf8');
      assert.equal(skeleton(after), skeleton(before), 'non-secret bytes unchanged');
      const tokens = tokensOf(after);
      assert.equal(tokens.length, 3);
      for (const [i, token] of tokens.entries()) {
        assert.ok(!tokensOf(before).includes(token), 'fresh ciphertext');
        assert.equal(await decryptValue(token, [alice.identity]), values[i]);
        await assert.rejects(decryptValue(token, [bob.identity]), /other recipients/);
      }
    }
  });

  it('rekeys nunjucks pillar files byte for byte outside the tokens', async () => {
    const alice = await newKey();
    t = tempProject([alice.recipient]);
    const [a, b] = await Promise.all([
      encryptValue('bsd-password', [alice.recipient]),
      encryptValue('linux-password', [alice.recipient]),
    ]);
    const file = path.join(t.dir, 'pillar', 'tpl.yaml');
    const text = `{% set v = '15' %}\n{% if facts.osFamily == 'FreeBSD' %}\npw: !secret ${a}\n{% else %}\npw: !secret ${b}\n{% endif %}\n`;
    writeFileSync(file, text);
    const result = await rekeyPillar(t.project, envWith([alice.identity]));
    assert.deepEqual(result.files, [{ file: 'pillar/tpl.yaml', secrets: 2 }]);
    const after = readFileSync(file, 'utf8');
    assert.equal(skeleton(after), skeleton(text));
    assert.deepEqual(await Promise.all(tokensOf(after).map((tok) => decryptValue(tok, [alice.identity]))), [
      'bsd-password',
      'linux-password',
    ]);
    const checked = await checkPillar(t.project, envWith([alice.identity]));
    assert.equal(checked.ok, 2);
  });

  it('changes no file when any secret cannot be decrypted', async () => {
    const alice = await newKey();
    const stranger = await newKey();
    t = tempProject([alice.recipient]);
    const good = await pillarFile('a.yaml', [alice.recipient], ['value-one', 'value-two', 'value-three']);
    const bad = await pillarFile('b.yaml', [stranger.recipient], ['other-one', 'other-two', 'other-three']);
    const before = [readFileSync(good, 'utf8'), readFileSync(bad, 'utf8')];
    await assert.rejects(rekeyPillar(t.project, envWith([alice.identity])), (err: Error) => {
      assert.match(err.message, /rekey aborted, no file changed/);
      assert.match(err.message, /pillar\/b\.yaml:6: encrypted to other recipients/);
      assert.match(err.message, /pillar\/b\.yaml:9:/);
      assert.ok(!tokensOf(before[1]!).some((tok) => err.message.includes(tok)));
      return true;
    });
    assert.deepEqual([readFileSync(good, 'utf8'), readFileSync(bad, 'utf8')], before);
  });

  it('check lists failures by file:line', async () => {
    const alice = await newKey();
    const stranger = await newKey();
    t = tempProject([alice.recipient]);
    await pillarFile('a.yaml', [alice.recipient], ['value-one', 'value-two', 'value-three']);
    const ok = await checkPillar(t.project, envWith([alice.identity]));
    assert.deepEqual(
      { files: ok.files, secrets: ok.secrets, ok: ok.ok, failures: ok.failures },
      {
        files: 1,
        secrets: 3,
        ok: 3,
        failures: [],
      },
    );
    await pillarFile('b.yaml', [stranger.recipient], ['other-one', 'other-two', 'other-three']);
    writeFileSync(path.join(t.dir, 'pillar', 'c.yaml'), 'x: !secret "quoted"\n');
    const bad = await checkPillar(t.project, envWith([alice.identity]));
    assert.equal(bad.ok, 3);
    assert.deepEqual(
      bad.failures.map((f) => `${f.file}:${f.line}`),
      ['pillar/b.yaml:6', 'pillar/b.yaml:7', 'pillar/b.yaml:9', 'pillar/c.yaml:1'],
    );
    assert.match(bad.failures[3]!.reason, /^unsupported !secret value/);
  });
});

import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decryptValue, encryptValue } from '../../../src/secrets/crypto.js';
import { EDIT_HEADER, editPillarFile, findPlainValues, yamlQuote } from '../../../src/secrets/edit.js';
import { redactor } from '../../../src/secrets/redactor.js';
import { envWith, newKey, skeleton, tempProject, tokensOf, type Key, type TempProject } from './helpers.js';

describe('secrets/edit', () => {
  let t: TempProject;
  let k: Key;
  let file: string;
  let original: string;

  beforeEach(async () => {
    k = await newKey();
    t = tempProject([k.recipient]);
    const [a, b] = await Promise.all([
      encryptValue('old-replication-pw', [k.recipient]),
      encryptValue('admin "quoted" pw\nline2', [k.recipient]),
    ]);
    original = [
      '# postgres',
      'postgres:',
      `  replication: {user: replicator, password: !secret ${a}}`,
      `  admin_password: !secret ${b}   # keep`,
      '  port: 5432',
      '',
    ].join('\n');
    file = path.join(t.dir, 'pillar', 'postgres.yaml');
    writeFileSync(file, original);
  });
  afterEach(() => t.cleanup());

  /** An editor script running `body` with $1 = the temp file; it records what it saw in <dir>/record. */
  function editor(body: string): string {
    const script = path.join(t.dir, 'editor.sh');
    const record = path.join(t.dir, 'record');
    writeFileSync(
      script,
      `#!/bin/sh\nf="$1"\nprintf '%s %s %s %s\\n' "$f" "$(stat -c %a "$f")" "$(stat -c %a "$(dirname "$f")")" "$(grep -c '!plain "' "$f")" > ${record}\n${body}\n`,
    );
    chmodSync(script, 0o755);
    return script;
  }
  function recorded(): { tmp: string; fileMode: string; dirMode: string; plainCount: number } {
    const [tmp, fileMode, dirMode, count] = readFileSync(path.join(t.dir, 'record'), 'utf8')
      .trim()
      .split(' ');
    return { tmp: tmp!, fileMode: fileMode!, dirMode: dirMode!, plainCount: Number(count) };
  }

  it('re-encrypts only the value that changed; the temp dir is gone afterwards', async () => {
    const ed = editor(`sed -i 's/"old-replication-pw"/"new-replication-pw"/' "$f"`);
    const result = await editPillarFile(t.project, file, {
      editor: ed,
      env: envWith([k.identity]),
      tmpRoot: t.dir,
    });
    assert.deepEqual(result, { file, written: true, secrets: 2, encrypted: 1 });

    const seen = recorded();
    assert.equal(seen.fileMode, '600');
    assert.equal(seen.dirMode, '700');
    assert.equal(seen.plainCount, 2);
    assert.ok(!existsSync(path.dirname(seen.tmp)), 'temp dir removed');

    const after = readFileSync(file, 'utf8');
    assert.equal(skeleton(after), skeleton(original));
    const [oldA, oldB] = tokensOf(original);
    const [newA, newB] = tokensOf(after);
    assert.notEqual(newA, oldA);
    assert.equal(newB, oldB, 'unchanged value keeps its ciphertext');
    assert.equal(await decryptValue(newA!, [k.identity]), 'new-replication-pw');
    assert.ok(!after.includes('new-replication-pw') && !after.includes('!plain'));
    assert.equal(
      redactor.redact('x old-replication-pw y'),
      'x ******** y',
      'decrypted values are registered',
    );
  });

  it('removes the temp dir and leaves the file alone when the editor fails', async () => {
    const ed = editor(`sed -i 's/"old-replication-pw"/"changed-anyway"/' "$f"\nexit 3`);
    await assert.rejects(
      editPillarFile(t.project, file, { editor: ed, env: envWith([k.identity]), tmpRoot: t.dir }),
      /editor exited with status 3; the pillar file was not changed/,
    );
    assert.ok(!existsSync(path.dirname(recorded().tmp)));
    assert.equal(readFileSync(file, 'utf8'), original);
  });

  it('writes nothing when nothing changed', async () => {
    const ed = editor('true');
    const result = await editPillarFile(t.project, file, {
      editor: ed,
      env: envWith([k.identity]),
      tmpRoot: t.dir,
    });
    assert.equal(result.written, false);
    assert.equal(readFileSync(file, 'utf8'), original);
  });

  it('encrypts new !plain values and drops the header line', async () => {
    const ed = editor(`cat >> "$f" <<'EOF'\n  new_secret: !plain 'it''s new'\nEOF`);
    const result = await editPillarFile(t.project, file, {
      editor: ed,
      env: envWith([k.identity]),
      tmpRoot: t.dir,
    });
    assert.equal(result.encrypted, 1);
    const after = readFileSync(file, 'utf8');
    assert.ok(!after.includes(EDIT_HEADER.trim()));
    assert.ok(after.startsWith(original));
    const tokens = tokensOf(after);
    assert.equal(tokens.length, 3);
    assert.equal(await decryptValue(tokens[2]!, [k.identity]), "it's new");
  });

  it('refuses an edit that is not valid YAML without quoting it; temp dir still removed', async () => {
    const ed = editor(`printf 'port: [unclosed-secretish\\n' >> "$f"`);
    await assert.rejects(
      editPillarFile(t.project, file, { editor: ed, env: envWith([k.identity]), tmpRoot: t.dir }),
      (err: Error) =>
        /postgres\.yaml:\d+:/.test(err.message) && !/old-replication-pw|secretish/.test(err.message),
    );
    assert.ok(!existsSync(path.dirname(recorded().tmp)));
    assert.equal(readFileSync(file, 'utf8'), original);
  });

  it('refuses to start without the identity that decrypts the file', async () => {
    const other = await newKey();
    await assert.rejects(
      editPillarFile(t.project, file, {
        editor: editor('true'),
        env: envWith([other.identity]),
        tmpRoot: t.dir,
      }),
      /pillar\/postgres\.yaml:3: cannot decrypt: encrypted to other recipients/,
    );
    assert.ok(!existsSync(path.join(t.dir, 'record')), 'editor never ran');
  });

  it('reads back every quoting style and rejects forms it cannot map', () => {
    const text = `a: !plain "x\\ty\\u00e9"\nb: !plain 'it''s'\nc: !plain plain words # note\n# d: !plain ignored\n`;
    assert.deepEqual(
      findPlainValues(text).map((p) => p.value),
      ['x\tyé', "it's", 'plain words'],
    );
    assert.throws(() => findPlainValues('a: !plain |\n  block\n', 'f'), /f:1: unsupported !plain value/);
    assert.throws(
      () => findPlainValues('a: !plain "abc"\nb: !plain "ok-value"\n', 'f'),
      /f:1: secret shorter than 4/,
    );
    for (const s of ['tab\there', 'nl\nhere', 'del\u007f', 'line sep\u2028', 'quote"back\\slash']) {
      assert.deepEqual(
        findPlainValues(`k: !plain ${yamlQuote(s)}\n`).map((p) => p.value),
        [s],
      );
    }
  });
});

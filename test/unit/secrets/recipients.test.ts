import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  addRecipient,
  parseRecipients,
  readRecipients,
  recipientsFile,
  removeRecipient,
} from '../../../src/secrets/recipients.js';
import { newKey, tempProject, type TempProject } from './helpers.js';

describe('secrets/recipients', () => {
  let t: TempProject | undefined;
  afterEach(() => t?.cleanup());

  it('parses one recipient per line with comments', async () => {
    const a = await newKey();
    const b = await newKey();
    const text = `# team\n${a.recipient}  # alice\n\n   ${b.recipient}\n${a.recipient}\n`;
    assert.deepEqual(parseRecipients(text), [a.recipient, b.recipient]);
  });

  it('names file and line of a bad entry', () => {
    assert.throws(
      () => parseRecipients('# ok\nage1garbage\n', 'pillar/.recipients'),
      /pillar\/\.recipients:2: malformed/,
    );
    assert.throws(() => parseRecipients('ssh-ed25519 AAAA\n', 'r'), /r:1: not an age recipient/);
  });

  it('adds and removes recipients, keeping comments, refusing to remove the last', async () => {
    const a = await newKey();
    const b = await newKey();
    t = tempProject([a.recipient]);
    assert.equal(await addRecipient(t.project, b.recipient), true);
    assert.equal(await addRecipient(t.project, b.recipient), false);
    assert.deepEqual(await readRecipients(t.project), [a.recipient, b.recipient]);
    assert.equal(await removeRecipient(t.project, a.recipient), true);
    assert.equal(await removeRecipient(t.project, a.recipient), false);
    assert.equal(readFileSync(recipientsFile(t.project), 'utf8'), `# test recipients\n${b.recipient}\n`);
    await assert.rejects(removeRecipient(t.project, b.recipient), /last recipient/);
    assert.throws(() => parseRecipients('x'), /not an age recipient/);
    await assert.rejects(addRecipient(t.project, 'age1bad'), /malformed age recipient/);
  });

  it('fails when the file is missing or empty', async () => {
    t = tempProject([]);
    await assert.rejects(readRecipients(t.project), /lists no recipients/);
    writeFileSync(recipientsFile(t.project), '');
    await assert.rejects(readRecipients(t.project), /lists no recipients/);
    rmSync(recipientsFile(t.project));
    await assert.rejects(readRecipients(t.project), /no recipients file .*orch secrets recipients add/);
  });
});

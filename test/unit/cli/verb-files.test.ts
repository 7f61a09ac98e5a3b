// The CLI loads one verb file for a verb that file registers alone, and every file for help, completion and the
// verbs spread over several files; global options before the verb (with or without values) are skipped.
import { strict as assert } from 'node:assert';
import { Command } from 'commander';
import { verbFileFor } from '../../../src/cli/verb-files.js';

function program(): Command {
  return new Command('orch')
    .option('-r, --root <dir>')
    .option('-i, --inventory <path>')
    .option('-o, --output <format>')
    .option('--debug');
}

describe('verbFileFor', () => {
  it('names the file of a self-contained verb after global options', () => {
    assert.equal(verbFileFor(program(), ['apply', '*', '--async']), 'apply');
    assert.equal(verbFileFor(program(), ['--root', '/p', '-o', 'json', '--debug', 'run', 'h', 'ls']), 'run');
    assert.equal(verbFileFor(program(), ['--root=/p', 'jobs', 'list']), 'jobs');
  });

  it('loads every file for help, no verb, multi-file verbs and unknown words', () => {
    for (const args of [
      [],
      ['--help'],
      ['apply', '--help'],
      ['help', 'apply'],
      ['pg', 'status'],
      ['lab', 'up'],
      ['completion', 'bash'],
      ['aply', '*'],
      ['-V'],
    ]) {
      assert.equal(verbFileFor(program(), args), undefined, args.join(' '));
    }
  });
});

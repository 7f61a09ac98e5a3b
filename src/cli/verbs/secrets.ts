// `orch secrets ...`: age keys, the recipients list, encrypting a value, editing, re-keying and checking the
// encrypted values of pillar/. Parses arguments and prints; the work is in src/secrets/. Plaintext is read from
// stdin only, never from argv, and is never printed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { globalOptions, printJson, projectFor } from '../verb.js';

/** Largest secret accepted on stdin. */
const MAX_STDIN_BYTES = 1024 * 1024;

export function register(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('encrypted pillar values (age): keys, recipients, encrypt, edit, rekey, check');

  secrets
    .command('keygen')
    .description('create an age identity file (mode 0600) and print its public recipient')
    .option('--out <file>', 'where to write it (default: $XDG_CONFIG_HOME/orch/identity.txt)')
    .action(async (opts: { out?: string }, cmd: Command) => {
      const { defaultIdentityFile } = await import('../../secrets/identity.js');
      const { writeNewIdentity } = await import('../../secrets/keygen.js');
      const created = await writeNewIdentity(opts.out ?? defaultIdentityFile());
      if (globalOptions(cmd).output === 'json') return printJson(created);
      process.stderr.write(
        `wrote identity to ${created.file}; add the recipient below to pillar/.recipients\n`,
      );
      process.stdout.write(`${created.recipient}\n`);
    });

  secrets
    .command('encrypt')
    .description(
      'encrypt a value read from stdin (one trailing newline trimmed) to pillar/.recipients; prints `!secret ...`',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const { OrchError } = await import('../../errors.js');
      const { encryptValue } = await import('../../secrets/crypto.js');
      const { readRecipients } = await import('../../secrets/recipients.js');
      const { MIN_SECRET_LENGTH } = await import('../../secrets/resolver.js');
      const recipients = await readRecipients(projectFor(cmd));
      if (process.stdin.isTTY) process.stderr.write('type the secret, then Ctrl-D on an empty line:\n');
      const plaintext = trimOneNewline(await readStdin());
      if (plaintext.length < MIN_SECRET_LENGTH) {
        throw new OrchError(
          'BAD_INPUT',
          `a secret must be at least ${MIN_SECRET_LENGTH} characters (so it can be masked)`,
        );
      }
      const ciphertext = await encryptValue(plaintext, recipients);
      if (globalOptions(cmd).output === 'json')
        return printJson({ yaml: `!secret ${ciphertext}`, recipients });
      process.stdout.write(`!secret ${ciphertext}\n`);
    });

  secrets
    .command('edit')
    .description(
      'edit a pillar file with its secrets decrypted (as !plain) in $EDITOR; re-encrypts changed values',
    )
    .argument('<file>', 'pillar YAML file (created when missing)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const { editPillarFile } = await import('../../secrets/edit.js');
      const project = projectFor(cmd);
      const target = existsSync(path.resolve(file)) ? path.resolve(file) : path.resolve(project.root, file);
      const result = await editPillarFile(project, target);
      if (globalOptions(cmd).output === 'json') return printJson(result);
      process.stdout.write(
        result.written
          ? `${result.file}: written; ${result.secrets} secrets, ${result.encrypted} newly encrypted\n`
          : `${result.file}: no change\n`,
      );
    });

  const recipients = secrets
    .command('recipients')
    .description('who can decrypt: the age1... keys in pillar/.recipients');
  recipients
    .command('list')
    .description('print the recipients')
    .action(async (_opts: unknown, cmd: Command) => {
      const { readRecipients } = await import('../../secrets/recipients.js');
      const list = await readRecipients(projectFor(cmd));
      if (globalOptions(cmd).output === 'json') return printJson(list);
      for (const r of list) process.stdout.write(`${r}\n`);
    });
  recipients
    .command('add')
    .description('add a recipient (then run `orch secrets rekey` so it can decrypt existing secrets)')
    .argument('<recipient>', 'age1... public key')
    .action(async (recipient: string, _opts: unknown, cmd: Command) => {
      const { addRecipient } = await import('../../secrets/recipients.js');
      const added = await addRecipient(projectFor(cmd), recipient);
      reportRecipientChange(cmd, recipient, added, added ? 'added' : 'already listed');
    });
  recipients
    .command('remove')
    .description('remove a recipient (then run `orch secrets rekey` so it can no longer decrypt)')
    .argument('<recipient>', 'age1... public key')
    .action(async (recipient: string, _opts: unknown, cmd: Command) => {
      const { removeRecipient } = await import('../../secrets/recipients.js');
      const removed = await removeRecipient(projectFor(cmd), recipient);
      if (!removed) process.exitCode = EXIT.BAD_INPUT;
      reportRecipientChange(cmd, recipient, removed, removed ? 'removed' : 'not listed');
    });

  secrets
    .command('rekey')
    .description('re-encrypt every !secret in pillar/ to the current recipients, in place')
    .action(async (_opts: unknown, cmd: Command) => {
      const { rekeyPillar } = await import('../../secrets/rekey.js');
      const result = await rekeyPillar(projectFor(cmd));
      if (globalOptions(cmd).output === 'json') return printJson(result);
      for (const f of result.files) process.stdout.write(`${f.file}: ${f.secrets} re-encrypted\n`);
      const total = result.files.reduce((n, f) => n + f.secrets, 0);
      process.stdout.write(
        `${total} secrets in ${result.files.length} files now encrypted to ${result.recipients.length} recipients\n`,
      );
    });

  secrets
    .command('check')
    .description(
      'verify every !secret in pillar/ decrypts with the current identity (exit 4 when any does not)',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const { checkPillar } = await import('../../secrets/check.js');
      const result = await checkPillar(projectFor(cmd));
      if (result.failures.length > 0) process.exitCode = EXIT.BAD_INPUT;
      if (globalOptions(cmd).output === 'json') return printJson(result);
      for (const f of result.failures) {
        process.stdout.write(`${f.file}${f.line ? `:${f.line}` : ''}: ${f.reason}\n`);
      }
      const failed = result.failures.length;
      process.stdout.write(
        `${result.ok}/${result.secrets} secrets in ${result.files} files decrypt with ${result.source}` +
          (failed ? `; ${failed} failed\n` : '\n'),
      );
    });
}

function reportRecipientChange(cmd: Command, recipient: string, changed: boolean, what: string): void {
  if (globalOptions(cmd).output === 'json') return printJson({ recipient, changed, status: what });
  process.stdout.write(`${recipient}: ${what}\n`);
  if (changed)
    process.stderr.write('run `orch secrets rekey` to re-encrypt existing secrets to the new list\n');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_STDIN_BYTES) {
      const { OrchError } = await import('../../errors.js');
      throw new OrchError('BAD_INPUT', `secret on stdin is larger than ${MAX_STDIN_BYTES} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function trimOneNewline(s: string): string {
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  if (s.endsWith('\n')) return s.slice(0, -1);
  return s;
}

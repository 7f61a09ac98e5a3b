// Creating a new age identity file for `orch secrets keygen`. Writes only the file it is given (never
// overwrites one) and the directories above it; never prints the private key.
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { OrchError } from '../errors.js';

export interface NewIdentity {
  file: string;
  /** The public age1... recipient to add to pillar/.recipients. */
  recipient: string;
}

/** Generate an identity into a new file (mode 0600; missing directories made 0700); refuses to overwrite. */
export async function writeNewIdentity(file: string): Promise<NewIdentity> {
  const abs = path.resolve(file);
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  // mkdir's mode applies only to the directories it creates; an existing directory is left as it is.
  await mkdir(path.dirname(abs), { recursive: true, mode: 0o700 });
  let handle;
  try {
    handle = await open(abs, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new OrchError('BAD_INPUT', `${abs} already exists; refusing to overwrite an identity`);
    }
    throw new OrchError('SECRET_ERROR', `cannot create ${abs}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // 'wx' with mode 0600 can still be widened by nothing but narrowed by umask; set it exactly.
    await handle.chmod(0o600);
    await handle.writeFile(
      `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`,
    );
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { file: abs, recipient };
}

// The files of a new project made by `orch init`: one example host, top files, a pillar with one encrypted value
// (to a fresh age identity kept in .orch/, which git ignores), an example state and orch.yaml. Never overwrites:
// a directory that already holds a project is refused before anything is written.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { OrchError } from '../../errors.js';
import { encryptValue } from '../../secrets/crypto.js';
import { writeNewIdentity } from '../../secrets/keygen.js';

export const EXAMPLE_HOST = 'web1.example.com';

export interface Skeleton {
  dir: string;
  /** Files written, relative to dir, in the order written. */
  files: string[];
  identityFile: string;
  recipient: string;
  /** The commands to run next, as a user types them. */
  next: string[];
}

const PROJECT_MARKERS = ['orch.yaml', 'inventory', 'states', 'pillar'];

/** Write a new project into `dir` (made when missing). */
export async function writeSkeleton(dir: string): Promise<Skeleton> {
  const abs = path.resolve(dir);
  const present = PROJECT_MARKERS.filter((m) => existsSync(path.join(abs, m)));
  if (present.length) {
    throw new OrchError(
      'BAD_INPUT',
      `${abs} already holds a project (${present.join(', ')}); orch init writes only into a directory without one`,
    );
  }
  await mkdir(abs, { recursive: true });
  const identity = await writeNewIdentity(path.join(abs, '.orch', 'identity.txt'));
  const token = randomBytes(16).toString('hex');
  const secret = await encryptValue(token, [identity.recipient]);
  const files: Record<string, string> = {
    '.gitignore':
      "# orch's state: known_hosts, the job store and this project's age identity. Never commit it.\n.orch/\n",
    'orch.yaml': [
      "# orch's settings for this project; every key is optional (see orch's README).",
      '# Hosts worked on at once, and seconds to wait for a host to answer.',
      'parallel: 20',
      'connect_timeout: 10',
      '# The OpenSSH client config read for HostName, User, Port, IdentityFile and ProxyJump (default ~/.ssh/config).',
      '# ssh_config: ~/.ssh/config',
      "# Also trust the hosts in your OpenSSH known_hosts (read only); orch's own is .orch/known_hosts.",
      '# openssh_known_hosts: true',
      '',
    ].join('\n'),
    'inventory/hosts.yaml': [
      '# The hosts orch manages. Replace the example with your own; a host ~/.ssh/config knows needs no address.',
      'defaults:',
      '  user: root',
      'hosts:',
      `  ${EXAMPLE_HOST}:`,
      '    address: 192.0.2.10',
      '    groups: [web]',
      '',
    ].join('\n'),
    'states/top.yaml': [
      '# Which state files apply to which hosts: names, globs, group:<name> (docs of orch: TARGETING.md).',
      "'group:web':",
      '  - example',
      '',
    ].join('\n'),
    'states/example.yaml': [
      '# An example state: one file, its content from the pillar (the token is a secret: masked in every output).',
      '{% set ex = pillar.example %}',
      'example_config:',
      '  file.managed:',
      '    - name: /etc/orch-example.conf',
      "    - mode: '0600'",
      '    - contents: |',
      '        # managed by orch: {{ ex.greeting }}',
      '        api_token = {{ ex.api_token }}',
      '',
    ].join('\n'),
    'pillar/top.yaml': [
      '# Which pillar files each host gets; later files win on conflicting keys.',
      "'group:web':",
      '  - example',
      '',
    ].join('\n'),
    'pillar/example.yaml': [
      'example:',
      '  greeting: hello from orch',
      '  # Encrypted to pillar/.recipients: `orch secrets edit pillar/example.yaml` changes it.',
      `  api_token: !secret ${secret}`,
      '',
    ].join('\n'),
    'pillar/.recipients': [
      '# Who can decrypt the secrets of pillar/: one age recipient per line (`orch secrets recipients add`).',
      identity.recipient,
      '',
    ].join('\n'),
  };
  const written: string[] = ['.orch/identity.txt'];
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(abs, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text, { flag: 'wx' });
    written.push(rel);
  }
  const cd = path.relative(process.cwd(), abs) || '.';
  return {
    dir: abs,
    files: written,
    identityFile: identity.file,
    recipient: identity.recipient,
    next: [
      `export ORCH_AGE_IDENTITY_FILE=${identity.file}`,
      `cd ${cd} && orch pillar show ${EXAMPLE_HOST}`,
      `orch hostkeys trust ${EXAMPLE_HOST} && orch apply ${EXAMPLE_HOST} --test`,
    ],
  };
}

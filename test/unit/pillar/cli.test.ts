import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureRoot } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// The PUBLIC demo identity committed for tests; the fixture's secrets are encrypted to its recipient.
const demoKey = readFileSync(path.join(repo, 'test/fixtures/secrets/demo-identity.txt'), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('AGE-SECRET-KEY-'))!;

function orch(args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', '-r', fixtureRoot, ...args],
    {
      cwd: repo,
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        ...process.env,
        ORCH_AGE_IDENTITY: '',
        ORCH_AGE_IDENTITY_FILE: '',
        XDG_CONFIG_HOME: '/nonexistent',
        ...env,
      },
    },
  );
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('orch pillar show', () => {
  it('prints YAML with secrets as <secret> under --no-decrypt', () => {
    const r = orch(['pillar', 'show', 'primary.example.com', '--no-decrypt']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^motd: Welcome to primary\.example\.com$/m);
    assert.match(r.stdout, /^ {4}password: <secret>$/m);
    assert.doesNotMatch(r.stdout, /YWdlLWVuY3J5cHRpb24/);
  });

  it('decrypts with the real secrets store and prints JSON with the values masked', () => {
    const r = orch(['-o', 'json', 'pillar', 'show', 'replica.example.com'], { ORCH_AGE_IDENTITY: demoKey });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { postgres: { port: number; replication: { password: string } } };
    assert.equal(out.postgres.port, 5432);
    assert.equal(out.postgres.replication.password, '********');
    assert.doesNotMatch(r.stdout, /demo-replication-pw|demo-app-pw-2/);
  });

  it('fails closed (exit 4, SECRET_ERROR message) when secrets cannot be decrypted', () => {
    const r = orch(['pillar', 'show', 'replica.example.com']);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /cannot decrypt pillar key 'postgres\.(replication|app)\.password' for host replica\.example\.com/,
    );
  });

  it('an unknown host exits 4 naming it', () => {
    const r = orch(['pillar', 'show', 'nope.example.com', '--no-decrypt']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /no host named 'nope\.example\.com'/);
  });
});

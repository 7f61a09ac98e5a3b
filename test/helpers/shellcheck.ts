// shellcheck for tests of generated shell: absent, a test skips on a developer's machine but fails in CI (CI=true),
// where .ci/run installs it (scripts/ci-deps.sh), so a missing tool can never pass silently there.
import { spawnSync } from 'node:child_process';

export function hasShellcheck(): boolean {
  return spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Skip the calling test when shellcheck is absent, unless in CI, where that is a failure. */
export function requireShellcheck(test: Mocha.Context): void {
  if (hasShellcheck()) return;
  if (process.env.CI === 'true')
    throw new Error('shellcheck is not installed (CI=true): run scripts/ci-deps.sh');
  test.skip();
}

/** shellcheck's findings at severity warning and above for a POSIX sh script; '' when there are none. */
export function shellcheckFindings(script: string): string {
  const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', '-f', 'gcc', '-'], {
    input: script,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  if (r.status !== 0 && r.stdout.trim() === '') throw new Error(`shellcheck failed: ${r.stderr}`);
  return r.stdout.trim();
}

// Whether booted lab hosts can run here: Linux, root, systemd-container and debootstrap, and the suites' images
// (built when missing or stale: a no-op when up to date; scripts/lab-images.sh builds them in CI beforehand).
// A booted suite that cannot run fails with the reason; only ORCH_TEST_UNIT_ONLY=1 skips it (test/helpers/prereqs.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runOrch } from './cli.js';
import { PREREQ_HINT, UNIT_ONLY } from './prereqs.js';

/** Why booted hosts of these suites cannot run on this machine, or undefined when they can. */
export async function bootedLabProblem(...suites: string[]): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'booted lab hosts need Linux and root';
  if (!existsSync('/usr/bin/systemd-nspawn') || !existsSync('/usr/sbin/debootstrap'))
    return `booted lab hosts need systemd-container and debootstrap: ${PREREQ_HINT}`;
  const root = mkdtempSync(path.join(tmpdir(), 'orch-images-'));
  try {
    const b = await runOrch(['--root', root, 'lab', 'image', 'build', ...suites], { timeoutMs: 900_000 });
    if (b.code !== 0) return `the ${suites.join(', ')} image cannot be built:\n${b.stderr.trim()}`;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return undefined;
}

/** For a booted suite's `before`: skips under ORCH_TEST_UNIT_ONLY=1, else fails when the suites cannot run. */
export async function requireBootedLab(ctx: Mocha.Context, ...suites: string[]): Promise<void> {
  if (UNIT_ONLY) ctx.skip();
  const problem = await bootedLabProblem(...suites);
  if (problem) throw new Error(`booted lab hosts (${suites.join(', ')}) cannot run here: ${problem}`);
}

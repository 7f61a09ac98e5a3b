// What a no-change run costs each host, counted in the scripts orch sends rather than timed: the bench's 20-state
// check batch and the facts probe start few processes (BENCHMARKS.md, "Processes per host", has the measured
// figures). A process the shell starts shows in the text as a command substitution, a pipe or an external
// command; these bounds keep helpers from growing back a fork per call.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../../src/config/project.js';
import { compileHost } from '../../../src/engine/compile.js';
import { checkScript } from '../../../src/engine/phases.js';
import { factsScript } from '../../../src/facts/script.js';
import { parseFacts } from '../../../src/facts/parse.js';
import { compilePillar } from '../../../src/pillar/load.js';
import { createRenderEnv } from '../../../src/render/env.js';
import { parseBatchOutput } from '../../../src/shell/protocol.js';
import { buildBatch, helpers, newNonce } from '../../../src/shell/script.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { testHost } from '../../helpers/local-connection.js';

const BENCH = path.join(REPO_ROOT, 'bench', 'project-template');

async function benchCheckBatch(): Promise<{ script: string; states: number }> {
  const project = loadProject({ root: BENCH });
  const facts = parseFacts(
    readFileSync(path.join(REPO_ROOT, 'test/fixtures/facts/bare-debian12.txt'), 'utf8'),
  );
  const host = testHost('lab01.example.com');
  const pillar = await compilePillar(project, host, {
    resolver: { decrypt: () => Promise.reject(new Error('no secrets here')) },
    facts,
  });
  const c = compileHost({ root: BENCH, env: createRenderEnv(BENCH), host, facts, pillar });
  return { script: checkScript(c, newNonce()), states: c.states.length };
}

const count = (text: string, re: RegExp): number => (text.match(re) ?? []).length;
/** uname calls but orch_run_as's su fallback, which asks only when the batch's orch_os is not set. */
const UNAME = /(?<!orch_os:-\$\()uname/g;

describe('host-side cost of a no-change run', () => {
  it('the bench check batch asks for the OS and the uid once, not per state', async () => {
    const { script, states } = await benchCheckBatch();
    assert.equal(states, 20);
    assert.equal(count(script, UNAME), 1, 'one uname -s in the preamble');
    assert.equal(
      count(script, /\$\(id -u\)/g),
      3,
      'the preamble, and the fallbacks of orch_run_as_prepare and the standalone orch_run_as',
    );
  });

  it('the bench check batch runs the simple checks in its own shell: a subshell only for file.line and the service', async () => {
    const { script } = await benchCheckBatch();
    // file.line twice and service.running: 3 of the 20 steps (headroom of one).
    assert.ok(count(script, /^\( set -e$/gm) <= 4, 'few subshell steps');
    assert.ok(count(script, /^orch_begin \d+$/gm) === 20, 'every step framed');
  });

  it('the bench check batch: at most one command substitution per state body, no pipe to cut or tr per value', async () => {
    const { script } = await benchCheckBatch();
    const lib = helpers();
    const body = script.slice(script.indexOf('\neval "$orch_lib"\n'));
    assert.ok(body.length > 0 && !body.includes('orch_stat_dirs'), 'the steps follow the preamble');
    assert.equal(count(body, /\$\(orch_(stat|sha256) /g), 0, 'probes use orch_statv / orch_shav');
    assert.equal(count(body, /\| *cut\b/g), 0);
    // The helpers: od only for values that need hex, no uname outside the one at the top.
    assert.equal(count(lib, /\bod -An/g), 3, 'orch_hex, orch_kv (non-plain values), orch_kvfile');
    assert.equal(count(lib, UNAME), 1);
    assert.equal(count(lib, /\| *cut\b/g), 0);
  });

  it('the facts probe asks uname once for s, n, r and m (four times only as a fallback)', () => {
    const text = factsScript();
    assert.equal(count(text, /\buname -s -n -r -m\b/g), 1);
    assert.equal(count(text, /\buname -/g), 5, 'the one call, the four of the fallback');
  });

  it('the facts probe starts one process on a Debian host with PostgreSQL (real /bin/sh, counted with strace)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-cost-'));
    try {
      const trace = path.join(dir, 'trace');
      const file = path.join(dir, 'facts.sh');
      writeFileSync(file, factsScript());
      execFileSync(
        'strace',
        ['-f', '-qq', '-e', 'trace=fork,vfork,clone,clone3', '-o', trace, '/bin/sh', file],
        {
          stdio: 'ignore',
        },
      );
      // uname; id only where postgres is not in /etc/passwd. Headroom for a host with several clusters.
      assert.ok(count(readFileSync(trace, 'utf8'), /= [1-9]\d*\s*$/gm) <= 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a plain value travels without od, any other byte still round-trips (real /bin/sh, counted with strace)', () => {
    const nonce = newNonce();
    const odd = 'a b\n\tc\u00e9\u0001\u007f\'"$`\\%:end\n';
    const body = `orch_kv plain 'user:group:0644'\norch_kv odd "$(printf '%s' ${JSON.stringify(Buffer.from(odd).toString('base64'))} | base64 -d; printf x)"`;
    const script = buildBatch(nonce, [{ index: 0, body }]);
    const out = parseBatchOutput(execFileSync('/bin/sh', ['-s'], { input: script }).toString(), nonce).get(
      0,
    )!;
    assert.equal(out.kv.plain, 'user:group:0644');
    assert.equal(out.kv.odd, `${odd}x`);
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-cost-'));
    try {
      const traced = (b: string): number => {
        const file = path.join(dir, 'script.sh');
        writeFileSync(file, buildBatch(newNonce(), [{ index: 0, body: b }]));
        const trace = path.join(dir, 'trace');
        execFileSync(
          'strace',
          ['-f', '-qq', '-e', 'trace=fork,vfork,clone,clone3', '-o', trace, '/bin/sh', file],
          {
            stdio: 'ignore',
          },
        );
        return count(readFileSync(trace, 'utf8'), /= [1-9]\d*\s*$/gm);
      };
      const base = traced(':');
      // The step subshell plus the preamble's uname and id: a plain kv and stat/sha of a file add one each.
      assert.equal(traced("orch_kv a b; orch_kv c 'd:e:0644'; orch_kv f 1") - base, 0);
      assert.equal(traced('orch_statv /etc/passwd; orch_kv stat "$orch_st"') - base, 1);
      assert.equal(traced('orch_shav /etc/passwd; orch_kv sha "$orch_sha"') - base, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

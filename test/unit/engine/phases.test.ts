import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseFacts } from '../../../src/facts/parse.js';
import { compileHost } from '../../../src/engine/compile.js';
import { applyPhase, checkPhase, testResults } from '../../../src/engine/phases.js';
import { createRenderEnv } from '../../../src/render/env.js';
import { LocalConnection, testHost } from '../../helpers/local-connection.js';

describe('engine phases on a local shell', () => {
  let root: string;
  let target: string;
  const facts = parseFacts('');

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-engine-'));
    target = path.join(root, 'host');
    mkdirSync(path.join(root, 'states'));
    mkdirSync(path.join(root, 'templates'));
    mkdirSync(target);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function writeStates(top: string, files: Record<string, string>) {
    writeFileSync(path.join(root, 'states', 'top.yaml'), top);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, name), text);
  }

  function compile(pillar: Record<string, unknown> = {}) {
    return compileHost({ root, env: createRenderEnv(root), host: testHost(), facts, pillar });
  }

  it('checks, applies once, then reports clean, in one exec per phase', async () => {
    writeStates("'*': [site]\n", {
      'states/site.yaml':
        `motd:\n  file.managed:\n    - name: ${target}/motd\n    - source: motd.njk\n    - mode: '0640'\n` +
        `conf:\n  file.managed:\n    - name: ${target}/sub/app.conf\n    - contents: "port = {{ pillar.port }}\\n"\n    - makedirs: true\n    - require:\n      - file: motd\n`,
      'templates/motd.njk': 'Welcome to {{ host }}\n',
    });
    const conn = new LocalConnection(testHost());
    const compiled = compile({ port: 5432 });
    const checks = await checkPhase(conn, compiled);
    assert.deepEqual(
      checks.map((c) => c.status),
      ['change', 'change'],
    );
    assert.match(checks[0]!.diff!, /\+Welcome to local.example.com/);
    assert.equal(existsSync(path.join(target, 'motd')), false, 'check must not write');

    const results = await applyPhase(conn, compiled, checks);
    assert.deepEqual(
      results.map((r) => r.status),
      ['changed', 'changed'],
    );
    assert.equal(readFileSync(path.join(target, 'motd'), 'utf8'), 'Welcome to local.example.com\n');
    assert.equal(statSync(path.join(target, 'motd')).mode & 0o777, 0o640);
    assert.equal(readFileSync(path.join(target, 'sub/app.conf'), 'utf8'), 'port = 5432\n');
    assert.equal(conn.stats().execs, 2);

    const again = await checkPhase(conn, compile({ port: 5432 }));
    assert.deepEqual(
      again.map((c) => c.status),
      ['clean', 'clean'],
    );
  });

  it('shows a unified diff of a drifted file and does not touch it in test mode', async () => {
    writeStates("'*': [site]\n", {
      'states/site.yaml': `f:\n  file.managed:\n    - name: ${target}/f\n    - contents: "a\\nb\\n"\n`,
    });
    writeFileSync(path.join(target, 'f'), 'a\nB\n');
    const conn = new LocalConnection(testHost());
    const compiled = compile();
    const results = testResults(compiled, await checkPhase(conn, compiled));
    assert.equal(results[0]!.status, 'would_change');
    assert.match(results[0]!.diff!, /-B\n\+b/);
    assert.equal(readFileSync(path.join(target, 'f'), 'utf8'), 'a\nB\n');
  });

  it('a stop request ends the apply batch at its next safe point: between states, the running one finishes', async () => {
    const step = (i: number) =>
      `s${i}:\n  cmd.run:\n    - name: "touch ${target}/started${i}; sleep 0.4; touch ${target}/done${i}"\n    - creates: ${target}/done${i}\n`;
    writeStates("'*': [seq]\n", { 'states/seq.yaml': [1, 2, 3, 4].map(step).join('') });
    const conn = new LocalConnection(testHost());
    const compiled = compile();
    const checks = await checkPhase(conn, compiled);
    const results = await applyPhase(conn, compiled, checks, undefined, {
      requested: () => existsSync(path.join(target, 'started1')),
      reason: () => 'cancelled',
    });
    assert.deepEqual(
      results.map((r) => r.status),
      ['changed', 'not_run', 'not_run', 'not_run'],
      JSON.stringify(results.map((r) => r.comment)),
    );
    assert.match(results[1]!.comment, /^not run: stopped before this state: cancelled$/);
    assert.ok(existsSync(path.join(target, 'done1')), 'the state running when asked finished');
    assert.ok(!existsSync(path.join(target, 'started2')), 'no state started after the request');
    assert.deepEqual(conn.scripts.length, 2, 'the stop travels over a second exec, not a new script');
    const stopFile = /\[ ! -e (\/tmp\/orch-stop-[0-9a-f]+) \]/.exec(conn.scripts[1]!)?.[1];
    assert.ok(stopFile && !existsSync(stopFile), 'the stop file is removed afterwards');
  });

  it('a stop that is never requested costs no exec and the batch runs to its end', async () => {
    writeStates("'*': [one]\n", {
      'states/one.yaml': `s1:\n  cmd.run:\n    - name: "touch ${target}/x"\n    - creates: ${target}/x\n`,
    });
    const conn = new LocalConnection(testHost());
    const compiled = compile();
    const results = await applyPhase(conn, compiled, await checkPhase(conn, compiled), undefined, {
      requested: () => false,
      reason: () => 'cancelled',
    });
    assert.deepEqual(
      results.map((r) => r.status),
      ['changed'],
    );
    assert.equal(conn.stats().execs, 2, 'check and apply only: nothing was sent to stop it');
  });

  it('a progress meter redrawn with \\r reaches the live display one line per redraw', async () => {
    writeStates("'*': [m]\n", {
      'states/m.yaml': `meter:\n  cmd.run:\n    - name: "printf '10%%\\\\r50%%\\\\r100%%\\\\n'"\n`,
    });
    const conn = new LocalConnection(testHost());
    const compiled = compile();
    const lines: string[] = [];
    await applyPhase(conn, compiled, await checkPhase(conn, compiled), (l) => lines.push(l));
    assert.deepEqual(
      lines.filter((l) => l.trim() !== ''),
      ['10%', '50%', '100%'],
    );
  });

  describe('per-state timeout:', () => {
    const lingering = (marker: string): boolean => {
      try {
        execFileSync('pgrep', ['-f', marker]);
        return true;
      } catch {
        return false;
      }
    };

    it('a state past its timeout fails, its processes are ended, nothing after it runs', async () => {
      const late = path.join(target, 'late');
      writeStates("'*': [t]\n", {
        'states/t.yaml':
          `first:\n  file.managed:\n    - name: ${target}/first\n    - contents: "1\\n"\n    - timeout: 5\n` +
          `hang:\n  cmd.run:\n    - name: "sh -c 'sleep 37; touch ${late}'"\n    - timeout: 1\n` +
          `after:\n  file.managed:\n    - name: ${target}/after\n    - contents: "2\\n"\n`,
      });
      const conn = new LocalConnection(testHost());
      const compiled = compile();
      const checks = await checkPhase(conn, compiled);
      const t0 = Date.now();
      const results = await applyPhase(conn, compiled, checks);
      assert.ok(Date.now() - t0 < 5000, `bounded by the timeout (${Date.now() - t0} ms)`);
      assert.deepEqual(
        results.map((r) => r.status),
        ['changed', 'failed', 'not_run'],
      );
      assert.match(results[1]!.comment, /^apply timed out after 1s \(timeout:\)/);
      assert.match(results[2]!.comment, /not run: an earlier state timed out on this host/);
      assert.ok(!existsSync(path.join(target, 'after')), 'the state after it did not run');
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!lingering(late), 'the timed-out command does not keep running');
    });

    it('a check past its timeout is an error and nothing from there on is applied', async () => {
      writeStates("'*': [t]\n", {
        'states/t.yaml':
          `slow:\n  cmd.run:\n    - name: touch ${target}/slow\n    - unless: "sleep 37; test -e ${target}/never"\n    - timeout: 1\n` +
          `after:\n  file.managed:\n    - name: ${target}/after\n    - contents: "2\\n"\n`,
      });
      const conn = new LocalConnection(testHost());
      const compiled = compile();
      const checks = await checkPhase(conn, compiled);
      assert.deepEqual(
        checks.map((c) => c.status),
        ['error', 'error'],
      );
      assert.match(checks[0]!.comment, /^check timed out after 1s/);
      const results = await applyPhase(conn, compiled, checks);
      assert.deepEqual(
        results.map((r) => r.status),
        ['failed', 'not_run'],
      );
      assert.ok(!existsSync(path.join(target, 'slow')) && !existsSync(path.join(target, 'after')));
      assert.equal(conn.stats().execs, 1, 'no apply batch ran');
    });

    it('a state within its timeout is applied as without one (changed, then clean)', async () => {
      writeStates("'*': [t]\n", {
        'states/t.yaml': `quick:\n  cmd.run:\n    - name: touch ${target}/q\n    - creates: ${target}/q\n    - timeout: 10\n`,
      });
      const conn = new LocalConnection(testHost());
      const compiled = compile();
      const results = await applyPhase(conn, compiled, await checkPhase(conn, compiled));
      assert.deepEqual(
        results.map((r) => r.status),
        ['changed'],
      );
      assert.deepEqual(
        (await checkPhase(conn, compiled)).map((c) => c.status),
        ['clean'],
      );
    });

    it('refuses a timeout that is not a positive number of seconds, naming file and line', () => {
      writeStates("'*': [t]\n", {
        'states/t.yaml': `bad:\n  cmd.run:\n    - name: "true"\n    - timeout: soon\n`,
      });
      assert.throws(compile, (e: unknown) => {
        const text = `${(e as Error).message} ${JSON.stringify(e)}`;
        return /timeout must be a number of seconds/.test(text) && /t\.yaml/.test(text);
      });
    });
  });

  it('does not run a state whose requisite failed', async () => {
    writeStates("'*': [site]\n", {
      'states/site.yaml':
        `bad:\n  file.managed:\n    - name: ${target}/missing-dir/x\n    - contents: "x\\n"\n` +
        `after:\n  file.managed:\n    - name: ${target}/after\n    - contents: "y\\n"\n    - require: [bad]\n`,
    });
    const conn = new LocalConnection(testHost());
    const compiled = compile();
    const results = await applyPhase(conn, compiled, await checkPhase(conn, compiled));
    assert.deepEqual(
      results.map((r) => r.status),
      ['failed', 'not_run'],
    );
    assert.equal(existsSync(path.join(target, 'after')), false);
  });

  it('leaves no temp file behind when a write fails', async () => {
    writeStates("'*': [site]\n", {
      'states/site.yaml': `f:\n  file.managed:\n    - name: ${target}/f\n    - contents: "x\\n"\n    - user: no-such-user-orch\n`,
    });
    const conn = new LocalConnection(testHost());
    const compiled = compile();
    const results = await applyPhase(conn, compiled, await checkPhase(conn, compiled));
    assert.equal(results[0]!.status, 'failed');
    assert.deepEqual(
      (await import('node:fs')).readdirSync(target).filter((n) => n.startsWith('.orch')),
      [],
    );
  });
});

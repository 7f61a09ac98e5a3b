// The run loop's guarantees on the local Connector, several fake hosts each a directory of its own: no host is
// checked until every host has compiled; one input error anywhere aborts the run with nothing written; an
// unreachable host holds nobody; a cancelled run leaves alone every host not yet changing, and never cuts a batch.
// Every case asserts what was written (or not) in the hosts' directories and what ran on each.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ProjectConfig } from '../../../src/config/project.js';
import { runExitCode } from '../../../src/engine/exit.js';
import { runStates, type RunOptions, type RunReport } from '../../../src/engine/run.js';
import { HostUnreachableError } from '../../../src/errors.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { localConnector } from '../../../src/transport/local.js';
import type {
  Connection,
  ConnectionStats,
  Connector,
  ExecOptions,
  ExecResult,
} from '../../../src/transport/types.js';
import { testHost } from '../../helpers/local-connection.js';

/** One script run on a host: its number on that host (1 facts, 2 check, 3 apply) and when it began and ended. */
interface Exec {
  host: string;
  n: number;
  began: number;
  ended?: number;
}

/** Delegates to a local connection, logging each script on a clock shared by all hosts. */
class RecordingConnection implements Connection {
  private n = 0;
  constructor(
    private readonly inner: Connection,
    private readonly fleet: Fleet,
  ) {}
  get host(): HostSpec {
    return this.inner.host;
  }
  async runScript(script: string, opts?: Omit<ExecOptions, 'stdin'>): Promise<ExecResult> {
    const n = ++this.n;
    const delay = n === 1 ? (this.fleet.slowFacts[this.host.name] ?? 0) : 0;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const e: Exec = { host: this.host.name, n, began: this.fleet.tick() };
    this.fleet.log.push(e);
    try {
      return await this.inner.runScript(script, opts);
    } finally {
      e.ended = this.fleet.tick();
    }
  }
  exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.inner.exec(command, opts);
  }
  stats(): ConnectionStats {
    return this.inner.stats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

class Fleet implements Connector {
  readonly log: Exec[] = [];
  readonly slowFacts: Record<string, number> = {};
  readonly unreachable = new Set<string>();
  private clock = 0;
  private readonly local = localConnector();
  tick(): number {
    return ++this.clock;
  }
  async open(host: HostSpec, counters: ConnectionStats, signal?: AbortSignal): Promise<Connection> {
    if (this.unreachable.has(host.name))
      throw new HostUnreachableError(host.name, `${host.name}: connection refused`);
    return new RecordingConnection(await this.local.open(host, counters, signal), this);
  }
  /** Scripts run on `host` past its facts (checks and applies). */
  beyondFacts(host?: string): Exec[] {
    return this.log.filter((e) => e.n > 1 && (host === undefined || e.host === host));
  }
}

// The state each host gets: a file in the host's own directory, its mode from the host's vars (so a bad mode is
// an error only compiling with the host's data finds, after the facts: the barrier's case, not the precheck's).
const SITE = `out:
  file.managed:
    - name: "{{ vars.dir }}/out.txt"
    - contents: "written for {{ host }}\\n"
    - mode: "{{ vars.mode }}"
`;

describe('run loop on the local connector (barrier, abort, cancellation)', () => {
  let root: string;
  let hosts: HostSpec[];
  let fleet: Fleet;
  let project: ProjectConfig;

  const dirOf = (h: string) => path.join(root, 'hosts', h);
  const written = (h: string) => existsSync(path.join(dirOf(h), 'out.txt'));
  const run = (opts: Partial<RunOptions> = {}): Promise<RunReport> =>
    runStates(project, hosts, { mode: 'apply', connector: fleet, ...opts });

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-run-loop-'));
    mkdirSync(path.join(root, 'states'));
    mkdirSync(path.join(root, 'templates'));
    writeFileSync(path.join(root, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(path.join(root, 'states', 'site.yaml'), SITE);
    hosts = ['h1', 'h2', 'h3'].map((name) => {
      mkdirSync(dirOf(name), { recursive: true });
      return { ...testHost(name), vars: { dir: dirOf(name), mode: '0640' } };
    });
    fleet = new Fleet();
    project = {
      root,
      stateDir: path.join(root, '.orch'),
      inventoryPaths: [],
      knownHostsFile: path.join(root, '.orch', 'known_hosts'),
      parallel: 3,
      settings: {},
    };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('checks no host until every host has compiled, then applies each', async () => {
    fleet.slowFacts.h3 = 300;
    const report = await run();
    assert.equal(report.aborted, undefined);
    assert.equal(runExitCode(report), 0);
    const factsEnded = Math.max(...fleet.log.filter((e) => e.n === 1).map((e) => e.ended!));
    const checks = fleet.log.filter((e) => e.n === 2);
    assert.equal(checks.length, 3);
    for (const c of checks) assert.ok(c.began > factsEnded, `${c.host} was checked before h3 had compiled`);
    for (const h of ['h1', 'h2', 'h3']) {
      assert.equal(readFileSync(path.join(dirOf(h), 'out.txt'), 'utf8'), `written for ${h}\n`);
      assert.equal(fleet.beyondFacts(h).length, 2, `${h}: one check and one apply`);
    }
    assert.deepEqual(
      report.hosts.map((r) => [r.host, r.ok, r.states[0]?.status]),
      [
        ['h1', true, 'changed'],
        ['h2', true, 'changed'],
        ['h3', true, 'changed'],
      ],
    );
  });

  it('one host failing to compile aborts the run (exit 4) with nothing written on any host', async () => {
    // The bad host is the slowest: the others have compiled and wait at the barrier when it fails.
    hosts[1]!.vars.mode = 'rwx';
    fleet.slowFacts.h2 = 300;
    const report = await run();
    assert.equal(report.aborted?.host, 'h2');
    assert.equal(report.aborted?.code, 'STATE_ERROR');
    assert.equal(runExitCode(report), 4);
    for (const h of ['h1', 'h2', 'h3']) assert.equal(written(h), false, `${h} was written`);
    assert.deepEqual(fleet.beyondFacts(), [], 'no host was checked or changed');
    assert.deepEqual(fleet.log.map((e) => e.host).sort(), ['h1', 'h2', 'h3'], 'each host ran its facts only');
    const byHost = new Map(report.hosts.map((r) => [r.host, r]));
    for (const h of ['h1', 'h3']) {
      assert.equal(byHost.get(h)!.ok, false);
      assert.match(byHost.get(h)!.error!.message, /another host's states failed to compile \(h2\)/);
    }
    assert.match(byHost.get('h2')!.error!.message, /mode/);
  });

  it('an unreachable host does not hold the others at the barrier', async () => {
    fleet.unreachable.add('h2');
    const report = await run();
    assert.equal(report.aborted, undefined);
    assert.equal(runExitCode(report), 3);
    assert.deepEqual(
      ['h1', 'h2', 'h3'].map((h) => written(h)),
      [true, false, true],
    );
    const h2 = report.hosts.find((r) => r.host === 'h2')!;
    assert.equal(h2.error?.code, 'HOST_UNREACHABLE');
    assert.equal(h2.stats.execs, 0);
  });

  it('a run cancelled before it starts connects to no host and writes nothing', async () => {
    const report = await run({ cancelled: () => true, stopReason: () => 'interrupted' });
    assert.deepEqual(fleet.log, []);
    for (const r of report.hosts) {
      assert.equal(r.error?.code, 'CANCELLED');
      assert.match(r.error!.message, /not run: interrupted before it was started/);
      assert.deepEqual(r.stats, { connections: 0, execs: 0 });
      assert.equal(written(r.host), false);
    }
  });

  it('a run cancelled while hosts wait at the barrier checks and changes no host', async () => {
    let stop = false;
    fleet.slowFacts.h3 = 300;
    const report = await run({
      cancelled: () => stop,
      onProgress: (e) => {
        if (e.phase === 'waiting') stop = true;
      },
    });
    assert.deepEqual(fleet.beyondFacts(), []);
    for (const r of report.hosts) {
      assert.equal(r.error?.code, 'CANCELLED', r.host);
      assert.match(r.error!.message, /before this host was checked/);
      assert.equal(written(r.host), false);
    }
  });

  it("cancelling during one host's apply lets that batch finish and leaves the hosts after it alone", async () => {
    project.parallel = 1;
    let stop = false;
    let applying: string | undefined;
    const report = await run({
      cancelled: () => stop,
      onProgress: (e) => {
        if (e.phase === 'applying' && !applying) {
          applying = e.host;
          stop = true;
        }
      },
    });
    assert.ok(applying, 'one host reached its apply');
    for (const r of report.hosts) {
      if (r.host === applying) {
        assert.equal(r.ok, true);
        assert.equal(r.states[0]?.status, 'changed');
        assert.equal(written(r.host), true, 'the running batch was not cut');
      } else {
        assert.equal(r.error?.code, 'CANCELLED', r.host);
        assert.match(r.error!.message, /before this host was checked/);
        assert.equal(written(r.host), false);
        assert.deepEqual(fleet.beyondFacts(r.host), []);
      }
    }
  });
});

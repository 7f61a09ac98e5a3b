// Rolling runs: batch sizes, the primary -> standby order from compiled postgres.replica states (a cascade's
// standby after its upstream, by name or address), and the gate that stops when a batch fails beyond the share.
import { strict as assert } from 'node:assert';
import type { CompiledHost } from '../../../src/engine/compile.js';
import type { HostRunResult } from '../../../src/engine/result.js';
import { Rollout, batchHosts, rolloutOrder } from '../../../src/engine/rolling.js';
import { testHost } from '../../helpers/local-connection.js';

const host = (name: string, address = name) => ({ ...testHost(name), address });
const standbyOf = (name: string, primary: string): CompiledHost =>
  ({
    host: host(name),
    states: [{ decl: { fn: 'postgres.replica' }, args: { primary } }],
  }) as unknown as CompiledHost;
const result = (name: string, ok: boolean): HostRunResult => ({
  host: name,
  ok,
  states: [],
  stats: { connections: 1, execs: 2 },
  ms: 1,
});

describe('engine: rolling runs', () => {
  it('sizes batches by count or share, at least one host', () => {
    assert.equal(batchHosts({ hosts: 2 }, 5), 2);
    assert.equal(batchHosts({ hosts: 9 }, 5), 5);
    assert.equal(batchHosts({ percent: 25 }, 10), 2);
    assert.equal(batchHosts({ percent: 1 }, 10), 1);
    assert.equal(batchHosts({ percent: 100 }, 3), 3);
  });

  it('orders standbys after their primary, cascades after their upstream, else keeps the given order', () => {
    const hosts = [host('s2'), host('s1'), host('web'), host('p', '10.0.0.1')];
    const compiled = new Map([
      ['s1', standbyOf('s1', '10.0.0.1')],
      ['s2', standbyOf('s2', 's1')],
      ['web', { host: host('web'), states: [] } as unknown as CompiledHost],
    ]);
    assert.deepEqual(rolloutOrder(hosts, compiled), ['web', 'p', 's1', 's2']);
    const outside = new Map([['s1', standbyOf('s1', 'elsewhere.example.com')]]);
    assert.deepEqual(rolloutOrder(hosts, outside), ['s2', 's1', 'web', 'p'], 'a primary not targeted');
  });

  it('lets batches through in order and stops past the failure share', async () => {
    const hosts = ['a', 'b', 'c', 'd', 'e'].map((n) => host(n));
    const r = new Rollout(hosts, { size: { hosts: 2 }, failPercent: 0 });
    const order: string[] = [];
    const turn = (n: string) => r.turn(n).then((stop) => (order.push(`${n}:${stop ? 'stop' : 'go'}`), stop));
    const all = hosts.map((h) => turn(h.name));
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(order.sort(), ['a:go', 'b:go']);
    r.done(result('a', true));
    await new Promise((res) => setImmediate(res));
    assert.equal(order.length, 2, 'batch 2 waits for all of batch 1');
    r.done(result('b', false));
    const stops = await Promise.all(all);
    assert.match(stops[2]!, /batch 1 of 3 had 1 of 2 host\(s\) failed \(50%, more than --fail-percent 0\)/);
    assert.deepEqual(r.report(), { batches: [['a', 'b'], ['c', 'd'], ['e']], ran: 1, stopped: stops[2] });
    assert.equal(r.batchOf('e'), 3);
    // What a host's states see as running alongside it (the restart gate's "in this run").
    assert.deepEqual(r.batchWith('d'), ['c', 'd']);
    assert.equal(r.batchWith('x'), undefined);
  });

  it('goes on while failures stay within the share; unreachable hosts count for their batch', async () => {
    const hosts = ['a', 'b', 'c', 'd'].map((n) => host(n));
    const r = new Rollout(hosts, { size: { hosts: 2 }, failPercent: 50 });
    r.done(result('a', false)); // unreachable: done before the barrier
    const waits = [r.turn('b'), r.turn('c'), r.turn('d')];
    r.done(result('b', true));
    assert.deepEqual(await Promise.all(waits), [undefined, undefined, undefined]);
    assert.equal(r.report()?.ran, 2);
  });
});

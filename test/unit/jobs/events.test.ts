// The --on-event events: an apply's report gives one rebuild event per postgres.replica state that built, resumed
// or rolled back a data directory, or failed (not for a replica that only started or was left alone), and a
// lifecycle job's outcome becomes its verb's event with the hosts its steps touched.
import { strict as assert } from 'node:assert';
import type { HostRunResult, StateResult } from '../../../src/engine/result.js';
import { lifecycleEvent, rebuildEvents } from '../../../src/jobs/events.js';

const state = (
  fn: string,
  status: StateResult['status'],
  changed: boolean,
  comment: string,
): StateResult => ({
  id: 'replica_built',
  fn,
  name: 'replica_built',
  status,
  result: status !== 'failed',
  changed,
  comment,
  file: 'states/postgres/replica.yaml',
});
const host = (name: string, states: StateResult[]): HostRunResult => ({
  host: name,
  ok: true,
  states,
  stats: { connections: 1, execs: 1 },
  ms: 1,
});

describe('jobs/events: what the --on-event hook is told', () => {
  it('one rebuild event per replica built, resumed, rolled back or failed', () => {
    const evs = rebuildEvents('J1', [
      host('a', [state('postgres.replica', 'changed', true, 'changed: replica built from p:5432')]),
      host('b', [state('postgres.replica', 'changed', true, 'changed: started the stopped standby')]),
      host('c', [state('postgres.replica', 'clean', false, 'no change: streams from p')]),
      host('d', [state('postgres.replica', 'failed', false, 'pg_make_replica failed (exit status 3)')]),
      host('e', [state('file.managed', 'changed', true, 'changed: replica built from')]),
      host('f', [
        state(
          'postgres.replica',
          'changed',
          true,
          "changed: rolled back the rebuild interrupted at step 'copy' (nothing had been moved)",
        ),
      ]),
    ]);
    assert.deepEqual(
      evs.map((e) => [e.event, e.hosts[0], e.ok, e.exit_code, e.jid]),
      [
        ['rebuild', 'a', true, 0, 'J1'],
        ['rebuild', 'd', false, 1, 'J1'],
        ['rebuild', 'f', true, 0, 'J1'],
      ],
    );
    assert.match(evs[0]!.message, /replica built from p:5432/);
  });

  it('a lifecycle outcome is its verb event with the hosts of its steps', () => {
    const ev = lifecycleEvent('pg switchover', 'J2', {
      exitCode: 0,
      state: 'done',
      message: 'a is the primary',
      steps: [
        { host: 'p', step: 'stop', status: 'ok', detail: '', at: '' },
        { host: 'a', step: 'promote', status: 'ok', detail: '', at: '' },
        { host: 'p', step: 'rejoin', status: 'ok', detail: '', at: '' },
      ],
    });
    assert.equal(ev.event, 'switchover');
    assert.deepEqual(ev.hosts, ['p', 'a']);
    assert.equal(ev.ok, true);
    assert.equal(ev.topology, null);
  });
});

// The pure parts of the lifecycle verbs: repointing a conninfo keeps every other setting, the divergence rule for
// following a new primary, the probe's parser, and LSN order.
import assert from 'node:assert/strict';
import { conninfoTarget, parseConninfo, repointConninfo } from '../../../src/pg/lifecycle/conninfo.js';
import { lsnValue, parseProbe } from '../../../src/pg/lifecycle/probe.js';
import { divergence, parseHistory } from '../../../src/pg/lifecycle/timeline.js';

describe('pg lifecycle: conninfo, timelines, probe', () => {
  it('repoints host and port only, keeping quoting, passfile and the rest; hostaddr is dropped', () => {
    const before =
      "user=replicator passfile='/var/lib/post gres/.pgpass' channel_binding=prefer host=old.example.com hostaddr=10.0.0.1 port=5432 sslmode=prefer application_name='a\\'b'";
    const after = repointConninfo(before, 'new.example.com', 5433);
    assert.deepEqual(parseConninfo(after), [
      ['user', 'replicator'],
      ['passfile', '/var/lib/post gres/.pgpass'],
      ['channel_binding', 'prefer'],
      ['host', 'new.example.com'],
      ['port', '5433'],
      ['sslmode', 'prefer'],
      ['application_name', "a'b"],
    ]);
    assert.deepEqual(conninfoTarget(repointConninfo('user=r', 'h', 1)), { host: 'h', port: '1' });
    assert.throws(() => parseConninfo("user='open"), /unterminated/);
  });

  it('a standby can follow when its history is a prefix of the primary', () => {
    const history = parseHistory(
      '1\t0/5036C88\tno recovery target specified\n\n2\t0/7000110\tno recovery target\n',
    );
    assert.deepEqual(history, [
      { tli: 1, switchpoint: '0/5036C88' },
      { tli: 2, switchpoint: '0/7000110' },
    ]);
    const primary = { tli: 3, lsn: '0/8000000' };
    assert.equal(divergence({ tli: 1, lsn: '0/5036C88' }, primary, history), undefined);
    assert.equal(divergence({ tli: 2, lsn: '0/6000000' }, primary, history), undefined);
    assert.equal(divergence({ tli: 3, lsn: '0/7FFFFFF' }, primary, history), undefined);
    assert.match(
      divergence({ tli: 1, lsn: '0/5036D00' }, primary, history)!,
      /past the primary's switch point/,
    );
    assert.match(divergence({ tli: 4, lsn: '0/1' }, primary, history)!, /newer than the primary's 3/);
    assert.match(divergence({ tli: 3, lsn: '0/9000000' }, primary, history)!, /ahead of the primary/);
    assert.match(divergence({ tli: 2, lsn: '0/1' }, primary, [])!, /not in the primary's history/);
  });

  it('parses the probe: pg_control, the server state, a stopped server, an error', () => {
    const st = parseProbe(
      'db2',
      [
        '@@running 1',
        '@@ctl Database cluster state:               in archive recovery',
        '@@ctl Latest checkpoint location:           0/5036C10',
        "@@ctl Latest checkpoint's TimeLineID:       1",
        '@@sql {"in_recovery": true, "version": 150004, "system_id": "7420", "timeline": 1, "current_lsn": null, ' +
          '"receive_lsn": "0/5036C88", "replay_lsn": "0/5036C88", "paused": false, "receiver": {"status": "streaming", ' +
          '"slot": "db2", "sender_host": "db1", "sender_port": "5432"}, "conninfo": "host=db1", "slot_name": "db2", ' +
          '"slots": [{"name": "x", "active": false}]}',
      ].join('\n'),
    );
    assert.equal(st.running, true);
    assert.equal(st.inRecovery, true);
    assert.deepEqual(st.receiver, { status: 'streaming', slot: 'db2', senderHost: 'db1', senderPort: 5432 });
    assert.deepEqual(st.control, {
      state: 'in archive recovery',
      checkpointLsn: '0/5036C10',
      checkpointTli: 1,
    });
    assert.deepEqual(st.slots, [{ name: 'x', active: false }]);
    const stopped = parseProbe('db1', '@@running 0\n@@ctl Database cluster state:   shut down\n');
    assert.equal(stopped.running, false);
    assert.equal(stopped.control.state, 'shut down');
    assert.equal(stopped.error, undefined);
    assert.equal(parseProbe('db1', '@@running 1\n@@sqlerr FATAL: no').error, 'FATAL: no');
    assert.equal(parseProbe('db1', '@@running 1\n').error, 'the server did not answer');
  });

  it('orders LSNs by value, not as text', () => {
    assert.ok(lsnValue('0/A0000000') > lsnValue('0/9FFFFFFF'));
    assert.ok(lsnValue('1/0') > lsnValue('0/FFFFFFFF'));
    assert.throws(() => lsnValue('nope'));
  });
});

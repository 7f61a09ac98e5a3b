import { strict as assert } from 'node:assert';
import {
  ansibleExecsByPort,
  ansibleRecap,
  countAcceptedConnections,
  orchStats,
  parseTimeOutput,
} from '../../../bench/logcount.js';

describe('bench log counting', () => {
  it('counts one connection per "Accepted publickey" line of an sshd -e log', () => {
    const log = [
      'Server listening on 10.213.0.101 port 22.',
      'Accepted publickey for root from 10.213.0.1 port 40112 ssh2: ED25519 SHA256:abc',
      'Received disconnect from 10.213.0.1 port 40112:11: disconnected by user',
      'Accepted publickey for root from 10.213.0.1 port 40114 ssh2: ED25519 SHA256:abc',
      'Failed publickey for root from 10.213.0.1 port 40116 ssh2',
    ].join('\n');
    assert.equal(countAcceptedConnections(log), 2);
    assert.equal(countAcceptedConnections(''), 0);
  });

  it('attributes Ansible -vvv "SSH: EXEC" lines to hosts by their proxy port', () => {
    const out = [
      '<127.0.0.1> ESTABLISH SSH CONNECTION FOR USER: root',
      "<127.0.0.1> SSH: EXEC ssh -C -o ControlMaster=auto -o Port=40001 -o User=\"root\" 127.0.0.1 '/bin/sh -c '\"'\"'/usr/bin/python3 && sleep 0'\"'\"''",
      "<127.0.0.1> SSH: EXEC ssh -C -o ControlMaster=auto -o Port=40002 127.0.0.1 '/bin/sh -c '\"'\"'echo ~root && sleep 0'\"'\"''",
      "<127.0.0.1> SSH: EXEC ssh -C -o ControlMaster=auto -o Port=40001 127.0.0.1 '/bin/sh -c '\"'\"'rm -f -r /root/.ansible/tmp/x'\"'\"''",
      "<127.0.0.1> (0, b'', b'')",
      'ok: [lab01.example.com]',
    ].join('\n');
    const m = ansibleExecsByPort(out);
    assert.equal(m.get(40001), 2);
    assert.equal(m.get(40002), 1);
    assert.equal(m.size, 2);
  });

  it('reads per-host stats from orch JSON output', () => {
    const json = JSON.stringify({
      mode: 'apply',
      hosts: [
        { host: 'lab01.example.com', ok: true, stats: { connections: 1, execs: 2 }, states: [] },
        {
          host: 'lab02.example.com',
          ok: false,
          stats: { connections: 1, execs: 3 },
          states: [{ status: 'changed' }, { status: 'clean' }, { status: 'changed' }],
        },
      ],
    });
    assert.deepEqual(orchStats(json), [
      { host: 'lab01.example.com', connections: 1, execs: 2, ok: true, changed: 0 },
      { host: 'lab02.example.com', connections: 1, execs: 3, ok: false, changed: 2 },
    ]);
  });

  it('parses GNU time -f "%e %U %S %M" output, ignoring lines before it', () => {
    assert.deepEqual(parseTimeOutput('Command exited with non-zero status 2\n1.52 0.84 0.10 81234\n'), {
      elapsedS: 1.52,
      userS: 0.84,
      sysS: 0.1,
      maxRssKb: 81234,
    });
    assert.equal(parseTimeOutput('garbage'), undefined);
  });

  it('sums the Ansible PLAY RECAP', () => {
    const out = [
      'PLAY RECAP *********************************************************************',
      'lab01.example.com          : ok=21   changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0',
      'lab02.example.com          : ok=20   changed=3    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0',
    ].join('\n');
    assert.deepEqual(ansibleRecap(out), { hosts: 2, changed: 3, unreachable: 0, failed: 1 });
  });
});

// Values read from a host are data in the lifecycle verbs too (switchover, promote, follow, rejoin). Their state
// probe runs for real on every shell against stand-in psql, pg_ctl and pg_controldata that answer what a database
// superuser can make a server say (a function shadowing a catalog one on the role's search_path, a crafted
// pg_control): shell code, control characters, forged protocol lines. Nothing runs, the JSON arrives intact, and
// every value without the shape PostgreSQL gives it makes the node unreadable, so the verb refuses before acting.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type { PgNode } from '../../src/pg/lifecycle/node.js';
import { parseProbe, PROBE, type NodeState } from '../../src/pg/lifecycle/probe.js';
import { prelude } from '../../src/pg/lifecycle/remote.js';
import { shQuote } from '../../src/shell/quote.js';

const SHELLS = ['dash', 'bash', 'bash --posix', 'busybox sh'];

const GOOD = {
  in_recovery: true,
  version: 150005,
  system_id: '7420000000000000001',
  timeline: 2,
  current_lsn: null,
  receive_lsn: '0/5036C88',
  replay_lsn: '0/5036C88',
  paused: false,
  receiver: { status: 'streaming', slot: 'db2', sender_host: 'fd00:213::11', sender_port: '5432' },
  conninfo: 'host=db1 user=replicator',
  slot_name: 'db2',
  slots: [{ name: 'db3', active: false }],
};
const CONTROL = [
  'Database cluster state:               in archive recovery',
  'Latest checkpoint location:           0/5036C10',
  "Latest checkpoint's TimeLineID:       2",
  'Database system identifier:           7420000000000000001',
];

describe('security: the lifecycle verbs read host values as data', () => {
  let dir: string;
  let marker: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-lifecycle-data-'));
    marker = path.join(dir, 'pwned');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const code = () => `$(touch ${marker})`;

  function probe(shell: string, sqlJson: string, control = CONTROL): NodeState {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const answer = path.join(dir, 'answer.json');
    writeFileSync(answer, sqlJson);
    const tool = (name: string, body: string) => {
      writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    };
    tool('pg_ctl', 'exit 0');
    tool('psql', `cat ${shQuote(answer)}`);
    tool('pg_controldata', `printf '%s\\n' ${control.map(shQuote).join(' ')}`);
    const node = { binDir: bin, dataDir: dir, pgUser: userInfo().username, socketDir: dir, port: 5432 };
    const [cmd, ...args] = shell.split(' ');
    const r = spawnSync(cmd!, [...args, '-c', prelude(node as PgNode) + PROBE], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(marker), false, `host text ran as code:\n${r.stdout}`);
    return parseProbe('db2', r.stdout);
  }

  const hostile: [string, Record<string, unknown>, RegExp][] = [
    ['an LSN holding shell code', { replay_lsn: `0/1${code()}` }, /unexpected replay location/],
    ['an LSN in lower case with a blank', { receive_lsn: ' 0/5036c88' }, /unexpected receive location/],
    ['a timeline that is not a number', { timeline: `2${code()}` }, /unexpected timeline/],
    ['timeline 0', { timeline: 0 }, /unexpected timeline/],
    ['a fractional timeline', { timeline: 1.5 }, /unexpected timeline/],
    ['a version that is not one', { version: '15; reboot' }, /unexpected server_version_num/],
    ['a system id with letters', { system_id: '74a' }, /unexpected system identifier/],
    [
      'a slot name forging a probe line',
      { slots: [{ name: 'x\n@@running 0', active: false }] },
      /unexpected slot name/,
    ],
    [
      'a sender host with terminal escapes',
      { receiver: { ...GOOD.receiver, sender_host: '\u001b]2;owned\u0007db1' } },
      /unexpected WAL receiver sender/,
    ],
    ['a receiver slot with a quote', { receiver: { ...GOOD.receiver, slot: "db2'x" } }, /receiver slot/],
    ['a sender port out of range', { receiver: { ...GOOD.receiver, sender_port: '70000' } }, /receiver port/],
    ['a primary_slot_name with a blank', { slot_name: 'db2 x' }, /unexpected primary_slot_name/],
  ];

  for (const shell of SHELLS) {
    describe(`under ${shell}`, () => {
      it('well-formed answers parse whole, a backslash in the conninfo included', () => {
        const conninfo = "host=db1 application_name='a\\\\nb' user=replicator";
        const st = probe(shell, `${JSON.stringify({ ...GOOD, conninfo })}\n`);
        assert.equal(st.error, undefined);
        assert.equal(st.timeline, 2);
        assert.equal(st.conninfo, conninfo, 'the JSON reached orch byte for byte');
        assert.deepEqual(st.receiver, {
          status: 'streaming',
          slot: 'db2',
          senderHost: 'fd00:213::11',
          senderPort: 5432,
        });
      });

      for (const [what, change, re] of hostile)
        it(`refuses ${what}`, () => {
          const st = probe(shell, `${JSON.stringify({ ...GOOD, ...change })}\n`);
          assert.match(st.error ?? '', re, JSON.stringify(st));
          const control = [...st.error!].filter((ch) => ch.charCodeAt(0) < 0x20);
          assert.deepEqual(control, [], `a control character in ${JSON.stringify(st.error)}`);
        });

      it('refuses pg_controldata lines that are not what pg_controldata prints', () => {
        for (const [line, re] of [
          [`Latest checkpoint location:           0/1${code()}`, /checkpoint location/],
          ["Latest checkpoint's TimeLineID:       -1", /pg_control timeline/],
          ['Database cluster state:               in production; rm -rf /', /pg_control state/],
          ['Database system identifier:           0x10', /pg_control system id/],
        ] as const) {
          const st = probe(shell, `${JSON.stringify(GOOD)}\n`, [...CONTROL, line]);
          assert.match(st.error ?? '', re, line);
        }
      });
    });
  }
});

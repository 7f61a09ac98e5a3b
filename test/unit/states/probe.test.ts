// Probe output read through schemas: a value a probe should never print is an error naming the key and the value,
// never a silent "missing".
import { strict as assert } from 'node:assert';
import { z } from 'zod';
import type { StepOutput } from '../../../src/shell/protocol.js';
import { fileAbsent } from '../../../src/states/file/absent.js';
import { fileManaged } from '../../../src/states/file/managed.js';
import { readFileState } from '../../../src/states/postgres/conffile.js';
import { readProbe } from '../../../src/pg/connector.js';
import { kvBit, kvDigits, kvFlag, readKv } from '../../../src/states/probe.js';
import { serviceRunning } from '../../../src/states/service/running.js';
import type { StateContext } from '../../../src/states/types.js';
import { parseFacts } from '../../../src/facts/parse.js';
import { testHost } from '../../helpers/local-connection.js';

const out = (kv: Record<string, string>, status: number | null = 0): StepOutput => ({
  index: 0,
  status,
  kv,
  text: '',
});
const ctx: StateContext = { host: testHost(), facts: parseFacts(''), pillar: {}, renderTemplate: () => '' };

describe('states: probe output read through schemas', () => {
  const schema = z.object({ exists: z.enum(['file', 'none']), parent: kvFlag, size: kvDigits.optional() });

  it('gives the typed keys and drops keys the probe schema does not name', () => {
    const r = readKv(schema, out({ exists: 'file', size: '12', comment: 'x' }));
    assert.deepEqual(r, { ok: true, kv: { exists: 'file', size: '12' } });
  });

  it('names the key and the value it did not expect, and a required key that is missing', () => {
    const bad = readKv(schema, out({ exists: 'fil', size: '1x' }));
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error : '', /exists="fil" .*size="1x" \(expected a decimal number\)/);
    const none = readKv(schema, out({}));
    assert.match(!none.ok ? none.error : '', /no exists/);
    assert.equal(readKv(z.object({ b: kvBit }), out({ b: '2' })).ok, false);
  });

  it('file.managed: an unexpected exists is an error, not a file that is there', () => {
    const a = fileManaged.args.parse({ name: '/tmp/x', contents: 'hi\n' });
    const p = fileManaged.prepare!(a, ctx);
    const c = fileManaged.interpretCheck(a, p, out({ exists: 'directory' }), ctx, false);
    assert.equal(c.status, 'error');
    assert.match(c.comment, /could not read the check of \/tmp\/x: .*exists="directory"/);
  });

  it('file.absent: no exists still reads as "could not tell"; a size that is no number is an error', () => {
    const a = fileAbsent.args.parse({ name: '/tmp/x' });
    assert.equal(fileAbsent.interpretCheck(a, undefined, out({}), ctx, false).status, 'unknown');
    const c = fileAbsent.interpretCheck(a, undefined, out({ exists: 'file', size: '' }), ctx, false);
    assert.equal(c.status, 'error');
    assert.match(c.comment, /size=""/);
  });

  it('service.*: an active that is neither 0 nor 1 is an error, not "stopped"', () => {
    const a = serviceRunning.args.parse({ name: 'nginx' });
    const c = serviceRunning.interpretCheck(
      a,
      undefined,
      out({ exists: '1', active: 'yes', enabled: '1' }),
      ctx,
      false,
    );
    assert.equal(c.status, 'error');
    assert.match(c.comment, /service nginx: .*active="yes"/);
  });

  it('postgres: the file probe and the psql probe report what they could not read', () => {
    const s = readFileState(out({ exists: 'file', stat: 'root:root:644', sha256: 'abc' }));
    assert.equal(s.ok, false);
    assert.match(!s.ok ? s.error : '', /sha256="abc"/);
    const good = readFileState(
      out({ exists: 'file', stat: 'postgres:postgres:640', sha256: 'a'.repeat(64) }),
    );
    assert.deepEqual(good.ok && [good.kv.user, good.kv.mode], ['postgres', '0640']);
    const p = readProbe(out({ pg: 'sideways' }));
    assert.equal(p.kind, 'error');
    assert.match(p.kind === 'error' ? p.detail : '', /pg="sideways"/);
  });
});

// file.managed never shows the host's old copy of a file that holds a secret: that copy may hold a secret orch no
// longer knows (last month's password), which no redactor can mask. A file counts as holding one when its content
// shows a secret in a form the redactor knows, and also when its template read a secret at all: a template may
// encode it in a way of its own (here reversed), which the content check cannot see. Run for real on a local shell.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { checkPhase } from '../../src/engine/phases.js';
import { redactor } from '../../src/secrets/redactor.js';
import { Project, state } from '../unit/states/helpers.js';

describe('security: file.managed diffs only files without secrets', () => {
  const secret = `cur-pw-${process.pid}-${Date.now().toString(36)}`;
  const OLD = 'old-password-nobody-knows-any-more';
  let p: Project;
  before(() => redactor.add(secret));
  beforeEach(() => (p = new Project()));
  afterEach(() => p.cleanup());

  async function checkWith(template: string) {
    const f = p.path('app.conf');
    writeFileSync(f, `password = ${OLD}\n`);
    p.states(state('conf', 'file.managed', { name: f, source: 'app.conf.njk' }), {
      'app.conf.njk': template,
    });
    const compiled = p.compile({ app: { password: secret } });
    const [check] = await checkPhase(p.conn, compiled);
    assert.equal(readFileSync(f, 'utf8'), `password = ${OLD}\n`, 'a check changes nothing');
    return check!;
  }

  it('a template that writes the secret in a form of its own: no diff, no old copy', async () => {
    const check = await checkWith('password = {{ pillar.app.password | reverse }}\n');
    assert.equal(check.status, 'change');
    const shown = `${check.comment}\n${check.diff ?? ''}`;
    assert.ok(!shown.includes(OLD), `the host's old copy was shown:\n${shown}`);
    assert.ok(!shown.includes([...secret].reverse().join('')), shown);
    assert.match(shown, /it holds secrets: no diff shown/);
  });

  it('a template that reads no secret still gets its diff', async () => {
    const check = await checkWith('password = from-the-template\n');
    assert.equal(check.status, 'change');
    assert.match(check.diff ?? '', /^-password = old-password/m);
    assert.match(check.diff ?? '', /^\+password = from-the-template/m);
  });
});

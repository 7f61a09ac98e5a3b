import { strict as assert } from 'node:assert';
import { InputError } from '../../../src/errors.js';
import { buildRenderContext } from '../../../src/render/context.js';
import { createRenderEnv, renderString, renderTemplate } from '../../../src/render/env.js';
import { projectRoot, samplePillar } from './helpers.js';

const HOST = 'primary.example.com';
const env = createRenderEnv(projectRoot);

function ctx(pillar: Record<string, unknown> = samplePillar()) {
  return buildRenderContext({ host: HOST, pillar });
}

function renderErr(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err;
  }
  assert.fail('expected a render error');
}

describe('render/env', () => {
  it('renders a template with an include, trimming block lines', () => {
    const out = renderTemplate(env, 'postgres/pg_hba.conf.j2', ctx(), {
      file: 'templates/postgres/pg_hba.conf.j2',
      host: HOST,
    });
    assert.equal(
      out,
      [
        '# managed by orch for primary.example.com',
        'local all postgres peer',
        'host replication replicator 10.213.0.12/32 scram-sha-256',
        'host replication replicator 10.213.0.13/32 scram-sha-256',
        '',
      ].join('\n'),
    );
    const withExtra = samplePillar();
    (withExtra.postgres as Record<string, unknown>).hba = { extra: 'host all all 127.0.0.1/32 trust' };
    assert.match(
      renderTemplate(env, 'postgres/pg_hba.conf.j2', ctx(withExtra), { file: 'x', host: HOST }),
      /127\.0\.0\.1\/32 trust\n$/,
    );
  });

  it('renders a .pgpass template with escaped fields', () => {
    const out = renderTemplate(env, 'pgpass.j2', ctx(), { file: 'templates/pgpass.j2', host: HOST });
    assert.equal(out.split('\n')[0], "replica.example.com:5432:replication:replicator:p\\:a\\\\ss'w$rd");
  });

  it('lets state files import macros from states/', () => {
    const text = '{% include "postgres/init.yaml" %}';
    const out = renderString(env, text, ctx(), { file: 'states/top.yaml', host: HOST });
    assert.match(out, /port = '5432'/);
    assert.match(out, /listen_addresses = '10\.213\.0\.11,localhost'/);
    assert.match(out, /- mode: '0640'/);
  });

  it('a missing pillar key surfaces with its message plus file:line of the innermost template', () => {
    const pillar = samplePillar();
    delete (pillar.postgres as { replication: Record<string, unknown> }).replication.user;
    const err = renderErr(() =>
      renderTemplate(env, 'postgres/pg_hba.conf.j2', ctx(pillar), { file: 'x', host: HOST }),
    );
    assert.equal(err.code, 'PILLAR_MISSING_KEY');
    assert.equal(err.file, 'templates/postgres/replication_lines.j2');
    assert.equal(err.line, 2);
    assert.equal(
      err.message,
      "templates/postgres/replication_lines.j2:2: pillar key 'postgres.replication.user' is not defined for host primary.example.com",
    );
  });

  it('names the line inside renderString text', () => {
    const err = renderErr(() =>
      renderString(env, 'a: 1\nb: 2\nc: {{ pillar.postgres.nope }}\n', ctx(), {
        file: 'states/db.yaml',
        host: HOST,
      }),
    );
    assert.equal(
      err.message,
      "states/db.yaml:3: pillar key 'postgres.nope' is not defined for host primary.example.com",
    );
  });

  it('template problems become TEMPLATE_ERROR naming file, line and host', () => {
    const syntax = renderErr(() =>
      renderString(env, 'ok\n\n{% if %}', ctx(), { file: 'states/s.yaml', host: HOST }),
    );
    assert.equal(syntax.code, 'TEMPLATE_ERROR');
    assert.equal(syntax.line, 3);
    assert.match(syntax.message, /^states\/s\.yaml:3: .*\(host primary\.example\.com\)$/);

    const undef = renderErr(() =>
      renderString(env, 'x\n{{ nothing_here }}', ctx(), { file: 'states/u.yaml', host: HOST }),
    );
    assert.equal(undef.code, 'TEMPLATE_ERROR');
    assert.equal(undef.line, 2);
    assert.match(undef.message, /null or undefined value/);

    const filter = renderErr(() =>
      renderString(env, '\n\n\n{{ 1 | no_such_filter }}', ctx(), { file: 'f.yaml', host: HOST }),
    );
    assert.match(
      filter.message,
      /^f\.yaml:4: filter not found: no_such_filter \(host primary\.example\.com\)$/,
    );

    const missing = renderErr(() =>
      renderTemplate(env, 'nope.j2', ctx(), { file: 'templates/nope.j2', host: HOST }),
    );
    assert.equal(missing.code, 'TEMPLATE_ERROR');
    assert.match(missing.message, /template not found: nope\.j2/);
  });

  it('does not escape HTML (config files and shell, not web pages)', () => {
    assert.equal(renderString(env, '{{ "<a & b>" }}', ctx(), { file: 'f', host: HOST }), '<a & b>');
  });
});

// postgres.conf with `source:`: a template rendered per host, checked line by line against the file grammar,
// translated per version, then written, validated by a real server (pg_file_settings), reloaded or restored.
import { strict as assert } from 'node:assert';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildRenderContext } from '../../../../src/render/context.js';
import { createRenderEnv, renderTemplate } from '../../../../src/render/env.js';
import { parseConfText } from '../../../../src/render/pgconf-grammar.js';
import { redactor } from '../../../../src/secrets/redactor.js';
import { postgresConf, templateFile } from '../../../../src/states/postgres/conf.js';
import { startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { at, compileOne, pgFacts, runState, testCtx } from './helpers.js';

/** The shape of the formula's template: every name and value from pillar through the grammar filters. */
const TEMPLATE = `# settings from pillar
{% for name, value in pillar.pg.settings %}
{{ name | pg_setting }} = {{ value | pg_value }}
{% endfor %}
`;

function project(templates: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-conf-template-'));
  mkdirSync(path.join(root, 'templates'));
  for (const [name, text] of Object.entries(templates))
    writeFileSync(path.join(root, 'templates', name), text);
  return root;
}

/** A state context rendering templates of `root` with this pillar (as the engine's compile does). */
function ctxFor(root: string, pillar: Record<string, unknown>) {
  const env = createRenderEnv(root);
  const base = buildRenderContext({ host: 'test', pillar });
  return testCtx(pgFacts(), (name, extra = {}) =>
    renderTemplate(env, name, { ...base, ...extra }, { file: `templates/${name}`, host: 'test' }),
  );
}

describe('postgres.conf from a template', () => {
  let root: string;
  before(() => {
    root = project({
      'settings.conf.njk': TEMPLATE,
      'raw.conf.njk': '{% for k, v in pillar.pg.settings %}{{ k }} = {{ v }}\n{% endfor %}',
      'main.conf.njk': "include_dir = 'conf.d'\nwork_mem = {{ pg_version * 1 }}MB\n",
    });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const prepare = (pillar: Record<string, unknown>, args: Record<string, unknown> = {}) =>
    compileOne(
      'postgres.conf',
      postgresConf,
      { name: '/etc/pg/conf.d/orch.conf', source: 'settings.conf.njk', version: '15', ...args },
      ctxFor(root, { pg: pillar }),
    ).states[0]!.prepared as { content: string; settings: [string, unknown][]; sensitive: boolean };

  describe('rendering and the file grammar', () => {
    it('renders values as one token each: numbers bare, booleans on/off, strings quoted and escaped', () => {
      const p = prepare({
        settings: { work_mem: 4096, hot_standby: true, application_name: "it's # not a comment \\ x" },
      });
      assert.equal(
        p.content,
        "# settings from pillar\nwork_mem = 4096\nhot_standby = on\napplication_name = 'it''s # not a comment \\\\ x'\n",
      );
      assert.deepEqual(p.settings, [
        ['work_mem', '4096'],
        ['hot_standby', 'on'],
        ['application_name', "it's # not a comment \\ x"],
      ]);
    });

    it('a pillar value cannot add a line or an include; a pillar key cannot be a directive', () => {
      assert.throws(
        () => prepare({ settings: { work_mem: "1MB'\ninclude '/tmp/evil.conf" } }),
        /pillar key 'pg\.settings\.work_mem'.*cannot be a postgresql.conf value.*newline.*pg_value filter/s,
      );
      assert.throws(
        () => prepare({ settings: { include_dir: '/tmp' } }),
        /cannot be a postgresql.conf setting name.*include.*pg_setting filter/s,
      );
      assert.throws(() => prepare({ settings: { 'a = 1 #': 'x' } }), /pg_setting filter/);
    });

    it('an unfiltered template is still held to one setting per line, no includes, no setting twice', () => {
      const raw = (settings: Record<string, unknown>) => prepare({ settings }, { source: 'raw.conf.njk' });
      assert.throws(
        () => raw({ work_mem: "'1MB'\ninclude '/tmp/evil.conf'" }),
        /line 2: include in an include file; only postgresql.conf itself may include files/,
      );
      assert.throws(
        () => raw({ work_mem: "'1MB' shared_buffers = '1GB'" }),
        /line 1: not one "name = value"/,
      );
      assert.throws(
        () => raw({ work_mem: "'1MB'\nwork_mem = '2GB'" }),
        /sets work_mem twice \(lines 1 and 2\)/,
      );
      assert.equal(raw({ work_mem: "'1MB'" }).content, "work_mem = '1MB'\n");
    });

    it('postgresql.conf itself may hold include directives; the template sees pg_version', () => {
      const p = compileOne(
        'postgres.conf',
        postgresConf,
        { name: '/etc/pg/postgresql.conf', source: 'main.conf.njk', version: '13' },
        ctxFor(root, {}),
      ).states[0]!.prepared as { content: string; edit: boolean };
      assert.equal(p.content, "include_dir = 'conf.d'\nwork_mem = 13MB\n");
      assert.equal(p.edit, false, 'a template owns the whole file');
    });

    it('parses the lines PostgreSQL accepts and refuses the rest', () => {
      const ok = parseConfText("a = 1\n  b 'x''y' # c\nc=on\nd = -1.5e3\ne = 8MB\nf.g = /a/b:c\n# x\n\n");
      assert.deepEqual(
        ok.filter((l) => l.kind !== 'other').map((l) => 'value' in l && [l.name, l.value]),
        [
          ['a', '1'],
          ['b', "x'y"],
          ['c', 'on'],
          ['d', '-1.5e3'],
          ['e', '8MB'],
          ['f.g', '/a/b:c'],
        ],
      );
      for (const bad of ["a = 'x", 'a = 1 2', 'a =', '= 1', "a = 'x' 'y'", 'a\r = 1', 'a = x;y'])
        assert.throws(() => parseConfText(bad), /line 1/, bad);
    });
  });

  describe('version translation of the rendered settings', () => {
    const settings = { wal_level: 'replica', wal_keep_size: '1GB', max_slot_wal_keep_size: 1024 };
    const text = (v: number) =>
      templateFile(prepare({ settings }).content, v, { directives: false, what: 't' }).content;
    for (const v of [10, 12]) {
      it(`PostgreSQL ${v}: wal_keep_size becomes wal_keep_segments, max_slot_wal_keep_size is left out`, () => {
        const c = text(v);
        assert.match(c, /^wal_keep_segments = 64 {2}# orch: translated from wal_keep_size for PostgreSQL/m);
        assert.match(
          c,
          new RegExp(`^# orch: left out, PostgreSQL ${v} does not have it: max_slot_wal_keep_size`, 'm'),
        );
        assert.match(c, /^wal_level = 'replica'$/m);
      });
    }
    for (const v of [13, 15, 17]) {
      it(`PostgreSQL ${v}: written as rendered; wal_keep_segments becomes wal_keep_size`, () => {
        assert.equal(text(v), prepare({ settings }).content);
        const seg = templateFile('wal_keep_segments = 8\n', v, { directives: false, what: 't' });
        assert.equal(
          seg.content,
          `wal_keep_size = '128MB'  # orch: translated from wal_keep_segments for PostgreSQL ${v}\n`,
        );
        assert.match(seg.notes.join(), /translated to wal_keep_size/);
      });
    }
    it('refuses both names at once and what cannot be translated', () => {
      assert.throws(
        () =>
          templateFile('wal_keep_segments = 8\nwal_keep_size = 1GB\n', 15, { directives: false, what: 't' }),
        /remove wal_keep_segments/,
      );
      assert.throws(
        () => templateFile("wal_keep_size = 'lots'\n", 12, { directives: false, what: 't' }),
        /cannot be translated/,
      );
    });
  });

  describe('against a temp PostgreSQL 15', function () {
    this.timeout(120_000);
    let server: TempPostgres;
    let admin: pg.Client;
    let file: string;

    before(async () => {
      server = await startTempPostgres();
      const confD = path.join(server.dataDir, 'conf.d');
      mkdirSync(confD);
      const st = statSync(server.dataDir);
      chownSync(confD, st.uid, st.gid);
      appendFileSync(path.join(server.dataDir, 'postgresql.conf'), "include_dir = 'conf.d'\n");
      file = path.join(confD, 'orch.conf');
      admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
      await admin.query('SELECT pg_reload_conf()');
    });
    after(async () => {
      await admin?.end();
      await server?.stop();
    });

    const setting = async (name: string) =>
      (await admin.query('SELECT current_setting($1) AS v', [name])).rows[0].v as string;
    const conf = (settings: Record<string, unknown>) =>
      compileOne(
        'postgres.conf',
        postgresConf,
        { ...at(server), name: file, source: 'settings.conf.njk' },
        ctxFor(root, { pg: { settings } }),
      );

    it('a file that holds a secret shows no diff of either side', async () => {
      redactor.add('conf-template-secret-value');
      const r = await runState(conf({ application_name: 'conf-template-secret-value' }), false);
      assert.equal(r.check.status, 'change');
      assert.equal(r.check.diff, 'content differs (not shown: the file holds a secret)');
    });

    it('writes the rendered file, reloads, and a second run is clean', async () => {
      const first = await runState(conf({ work_mem: '6MB', wal_keep_size: 128 }), true);
      assert.equal(first.check.status, 'change');
      assert.equal(first.result!.status, 'changed', first.result!.comment);
      assert.match(first.result!.comment, /updated and reloaded/);
      assert.equal(await setting('work_mem'), '6MB');
      assert.equal(await setting('wal_keep_size'), '128MB');
      assert.equal(
        (await runState(conf({ work_mem: '6MB', wal_keep_size: 128 }), false)).check.status,
        'clean',
      );
    });

    it('a template change reloads; a restart-needing one is reported as pending_restart', async () => {
      const r = await runState(conf({ work_mem: '7MB', wal_keep_size: 128, max_wal_senders: 7 }), true);
      assert.equal(r.result!.status, 'changed', r.result!.comment);
      assert.match(r.result!.comment, /restart needed for: max_wal_senders/);
      assert.equal(await setting('work_mem'), '7MB');
      const pending = await admin.query(
        "SELECT pending_restart FROM pg_settings WHERE name = 'max_wal_senders'",
      );
      assert.equal(pending.rows[0].pending_restart, true);
    });

    it('a value the server rejects: the old file is restored and the state fails naming the line', async () => {
      const before = readFileSync(file, 'utf8');
      const r = await runState(conf({ work_mem: '7MB', wal_keep_size: 'lots', max_wal_senders: 7 }), true);
      assert.equal(r.result!.status, 'failed');
      assert.match(r.result!.comment, /orch\.conf line 3: wal_keep_size: setting could not be applied/);
      assert.match(r.result!.comment, /previous file is restored/);
      assert.equal(readFileSync(file, 'utf8'), before);
      assert.equal(await setting('wal_keep_size'), '128MB');
    });
  });
});

import { strict as assert } from 'node:assert';
import path from 'node:path';
import { OrchError } from '../../../src/errors.js';
import { globToRegExp } from '../../../src/inventory/glob.js';
import { loadInventory } from '../../../src/inventory/load.js';
import {
  factCandidates,
  parseTarget,
  resolveTargets,
  targetMatchesHost,
  usesFacts,
  type ResolveOptions,
  type TargetFacts,
} from '../../../src/inventory/target.js';
import { fixtures, projectAt } from './helpers.js';

const inv = loadInventory(projectAt(fixtures, [path.join(fixtures, 'good')]));
const names = (target: string, opts?: ResolveOptions) => resolveTargets(inv, target, opts).map((h) => h.name);

function unknownTarget(target: string, opts?: ResolveOptions): OrchError {
  try {
    resolveTargets(inv, target, opts);
  } catch (err) {
    assert.ok(err instanceof OrchError);
    assert.equal(err.code, 'UNKNOWN_TARGET');
    return err;
  }
  assert.fail(`expected UNKNOWN_TARGET for ${target}`);
}

describe('inventory/target', () => {
  it('resolves exact names', () => {
    assert.deepEqual(names('replica.example.com'), ['replica.example.com']);
  });

  it('resolves globs like fnmatch', () => {
    assert.deepEqual(names('*'), [
      'primary.example.com',
      'replica.example.com',
      'web1.example.com',
      'web2.example.com',
    ]);
    assert.deepEqual(names('web?.example.com'), ['web1.example.com', 'web2.example.com']);
    assert.deepEqual(names('web[2-9].*'), ['web2.example.com']);
    assert.deepEqual(names('web[!1]*'), ['web2.example.com']);
    assert.deepEqual(names('*.example.com').length, 4);
    assert.deepEqual(names('p*'), ['primary.example.com']);
  });

  it('resolves groups and comma lists in inventory order without duplicates', () => {
    assert.deepEqual(names('group:db'), ['primary.example.com', 'replica.example.com']);
    assert.deepEqual(names('web2.example.com, group:db,primary.example.com'), [
      'primary.example.com',
      'replica.example.com',
      'web2.example.com',
    ]);
  });

  it('intersects with opts.group', () => {
    assert.deepEqual(names('*', { group: 'monitoring' }), ['primary.example.com', 'web2.example.com']);
    assert.match(
      unknownTarget('web1.example.com', { group: 'db' }).message,
      /no host of 'web1\.example\.com' is in group 'db'/,
    );
    assert.match(unknownTarget('*', { group: 'nope' }).message, /no group named 'nope'/);
  });

  it('names the term that matched nothing', () => {
    assert.match(
      unknownTarget('primary.example.com,typo.example.com').message,
      /no host named 'typo\.example\.com'/,
    );
    assert.match(unknownTarget('db*').message, /no host matches 'db\*'/);
    assert.match(
      unknownTarget('group:dbs').message,
      /no group named 'dbs' \(groups: db, pg_primary, web, monitoring, empty\)/,
    );
    assert.match(unknownTarget('group:empty').message, /group 'empty' has no hosts/);
    assert.match(unknownTarget('a,,b').message, /empty target term/);
  });

  it('matches single hosts for pillar top files', () => {
    const primary = inv.hosts.get('primary.example.com')!;
    assert.equal(targetMatchesHost('group:pg_primary', primary), true);
    assert.equal(targetMatchesHost('group:web', primary), false);
    assert.equal(targetMatchesHost('web*,primary.example.com', primary), true);
    assert.equal(targetMatchesHost('group:nonexistent', primary), false);
  });

  it('compiles globs: dots literal, unclosed [ literal, ] first in a class', () => {
    assert.equal(globToRegExp('a.b').test('axb'), false);
    assert.equal(globToRegExp('a[b').test('a[b'), true);
    assert.equal(globToRegExp('[]x]').test(']'), true);
    assert.equal(globToRegExp('[^a]').test('a'), false);
    assert.equal(globToRegExp('x(y)+').test('x(y)+'), true);
  });
});

function facts(osFamily: string, versions: string[] = []): TargetFacts {
  return {
    kernel: osFamily === 'FreeBSD' ? 'FreeBSD' : 'Linux',
    kernelRelease: '6.1.0-18-amd64',
    osFamily,
    distro: osFamily.toLowerCase(),
    osVersion: '12',
    hostname: 'h',
    arch: 'x86_64',
    init: osFamily === 'FreeBSD' ? 'rc.d' : 'systemd',
    pkgTool: osFamily === 'FreeBSD' ? 'pkg' : 'apt',
    postgres: { versions },
  };
}

describe('inventory/target: exclusion, intersection, vars and facts', () => {
  const all = ['primary.example.com', 'replica.example.com', 'web1.example.com', 'web2.example.com'];
  const fleetFacts: Record<string, TargetFacts> = {
    'primary.example.com': facts('Debian', ['15']),
    'replica.example.com': facts('FreeBSD', ['16']),
    'web1.example.com': facts('Debian'),
    'web2.example.com': facts('RedHat'),
  };
  const withFacts: ResolveOptions = { facts: (h) => fleetFacts[h] };

  it('excludes with ! and intersects with &, comma binding loosest', () => {
    assert.deepEqual(names('*&!web*'), ['primary.example.com', 'replica.example.com']);
    assert.deepEqual(names('group:db&!rep*'), ['primary.example.com']);
    assert.deepEqual(names('group:db & group:monitoring'), ['primary.example.com']);
    // a,b&c is a ∪ (b ∩ c)
    assert.deepEqual(names('web1.example.com,group:db&!primary.example.com'), [
      'replica.example.com',
      'web1.example.com',
    ]);
    assert.deepEqual(names('!group:web'), ['primary.example.com', 'replica.example.com']);
    assert.deepEqual(names('*&!group:empty'), all);
  });

  it('keeps ! inside a glob class a glob, not an exclusion', () => {
    assert.deepEqual(names('web[!1]*'), ['web2.example.com']);
    assert.deepEqual(names('*&!web[!1]*'), [
      'primary.example.com',
      'replica.example.com',
      'web1.example.com',
    ]);
  });

  it('refuses names and groups that do not exist, even when excluded', () => {
    assert.match(
      unknownTarget('group:db&!primary.example.cmo').message,
      /no host named 'primary\.example\.cmo'/,
    );
    assert.match(unknownTarget('*&!group:dbs').message, /no group named 'dbs'/);
  });

  it('refuses an expression that ends up matching nothing, naming it', () => {
    assert.match(unknownTarget('group:db&!group:db').message, /target 'group:db&!group:db' matches no host/);
    assert.match(unknownTarget('group:web&group:db').message, /matches no host/);
  });

  it('refuses malformed terms', () => {
    assert.match(unknownTarget('!').message, /empty target term/);
    assert.match(unknownTarget('a&&b').message, /empty target term/);
    assert.match(unknownTarget('!!web*').message, /one '!' per term/);
    assert.match(unknownTarget('role=').message, /expected <var or fact>=<value or glob>/);
    assert.match(unknownTarget('=x').message, /expected <var or fact>=/);
    assert.match(unknownTarget('facts.nosuch=1').message, /no fact 'nosuch' \(facts: os, distro/);
    assert.match(unknownTarget('group:').message, /names no group/);
  });

  it('matches inventory vars (merged, dotted paths, lists, globs) without facts', () => {
    assert.deepEqual(names('role=replica'), ['replica.example.com']);
    assert.deepEqual(names('role=*a*'), ['primary.example.com', 'replica.example.com']);
    assert.deepEqual(names('pg.port=5433'), ['replica.example.com']);
    assert.deepEqual(names('pg.listen=localhost'), ['replica.example.com']);
    assert.deepEqual(names('http_port=80'), ['web1.example.com', 'web2.example.com']);
    assert.deepEqual(names('vars.role=primary&group:db'), ['primary.example.com']);
    assert.equal(usesFacts(parseTarget('role=primary,group:web')), false);
    assert.match(unknownTarget('role=nobody').message, /matches no host/);
  });

  it('matches facts, case-insensitively, once they are given', () => {
    assert.equal(usesFacts(parseTarget('os=FreeBSD')), true);
    assert.deepEqual(names('os=FreeBSD', withFacts), ['replica.example.com']);
    assert.deepEqual(names('os=debian', withFacts), ['primary.example.com', 'web1.example.com']);
    assert.deepEqual(names('group:db&!os=FreeBSD', withFacts), ['primary.example.com']);
    assert.deepEqual(names('pg_version=1[56]', withFacts), ['primary.example.com', 'replica.example.com']);
    assert.deepEqual(names('facts.init=rc.d', withFacts), ['replica.example.com']);
  });

  it('leaves for facts only the hosts the inventory cannot decide', () => {
    const cand = (t: string, o: ResolveOptions = {}) => factCandidates(inv, t, o).map((h) => h.name);
    assert.deepEqual(cand('group:db'), []);
    assert.deepEqual(cand('group:db&os=FreeBSD'), ['primary.example.com', 'replica.example.com']);
    // web1 and web2 are in by their group already; the others need facts.
    assert.deepEqual(cand('group:web,os=FreeBSD'), ['primary.example.com', 'replica.example.com']);
    assert.deepEqual(cand('os=FreeBSD', { group: 'monitoring' }), [
      'primary.example.com',
      'web2.example.com',
    ]);
    assert.deepEqual(cand('*', { limit: 'group:db&os=Debian' }), [
      'primary.example.com',
      'replica.example.com',
    ]);
  });

  it('refuses to guess when facts are needed but not given', () => {
    try {
      resolveTargets(inv, 'group:db&os=FreeBSD');
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof OrchError);
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(
        err.message,
        /matches on facts \(os\) but the facts of primary\.example\.com are not known/,
      );
    }
    // hosts excluded by the inventory never need facts
    const webOnly = (h: string) => (h.startsWith('web') ? fleetFacts[h] : undefined);
    assert.deepEqual(names('group:web&os=Debian', { facts: webOnly }), ['web1.example.com']);
  });

  it('narrows by --limit, which takes the same grammar and is checked the same way', () => {
    assert.deepEqual(names('*', { limit: 'group:db&!primary*' }), ['replica.example.com']);
    assert.deepEqual(names('group:db,group:web', { limit: 'role=primary,web1.example.com' }), [
      'primary.example.com',
      'web1.example.com',
    ]);
    assert.match(
      unknownTarget('group:web', { limit: 'group:db' }).message,
      /no host of 'group:web' is in --limit 'group:db'/,
    );
    assert.match(
      unknownTarget('*', { limit: 'typo.example.com' }).message,
      /no host named 'typo\.example\.com'/,
    );
  });

  it('matches single hosts for top files with the whole grammar', () => {
    const replica = inv.hosts.get('replica.example.com')!;
    assert.equal(targetMatchesHost('group:db&!primary*', replica), true);
    assert.equal(targetMatchesHost('*&!group:db', replica), false);
    assert.equal(targetMatchesHost('group:nosuch&*', replica), false);
    assert.equal(targetMatchesHost('os=FreeBSD', replica, fleetFacts['replica.example.com']), true);
    assert.equal(targetMatchesHost('os=FreeBSD', replica, fleetFacts['primary.example.com']), false);
    // decided without facts when the inventory part already excludes the host
    assert.equal(targetMatchesHost('group:web&os=FreeBSD', replica), false);
    assert.throws(
      () => targetMatchesHost('os=FreeBSD', replica),
      /matches on facts \(os\), which are not gathered here/,
    );
  });
});

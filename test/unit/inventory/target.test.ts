import { strict as assert } from 'node:assert';
import path from 'node:path';
import { OrchError } from '../../../src/errors.js';
import { globToRegExp } from '../../../src/inventory/glob.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { resolveTargets, targetMatchesHost } from '../../../src/inventory/target.js';
import { fixtures, projectAt } from './helpers.js';

const inv = loadInventory(projectAt(fixtures, [path.join(fixtures, 'good')]));
const names = (target: string, opts?: { group?: string }) => resolveTargets(inv, target, opts).map((h) => h.name);

function unknownTarget(target: string, opts?: { group?: string }): OrchError {
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
    assert.deepEqual(names('*'), ['primary.example.com', 'replica.example.com', 'web1.example.com', 'web2.example.com']);
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
    assert.match(unknownTarget('web1.example.com', { group: 'db' }).message, /no host of 'web1\.example\.com' is in group 'db'/);
    assert.match(unknownTarget('*', { group: 'nope' }).message, /no group named 'nope'/);
  });

  it('names the term that matched nothing', () => {
    assert.match(unknownTarget('primary.example.com,typo.example.com').message, /no host named 'typo\.example\.com'/);
    assert.match(unknownTarget('db*').message, /no host matches 'db\*'/);
    assert.match(unknownTarget('group:dbs').message, /no group named 'dbs' \(groups: db, pg_primary, web, monitoring, empty\)/);
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

import { strict as assert } from 'node:assert';
import { deepClone, deepMerge } from '../../../src/pillar/merge.js';
import { SecretRef } from '../../../src/secrets/ref.js';

describe('pillar/merge', () => {
  it('merges mappings recursively, later wins, lists replaced', () => {
    const a = { pg: { port: 5432, listen: ['a', 'b'], opts: { x: 1 } }, keep: true };
    const b = { pg: { listen: ['c'], opts: { y: 2 } }, keep: false };
    const c = { pg: { port: 6000 } };
    assert.deepEqual(deepMerge(a, b, c), {
      pg: { port: 6000, listen: ['c'], opts: { x: 1, y: 2 } },
      keep: false,
    });
  });

  it('a scalar replaces a mapping and the other way round', () => {
    assert.deepEqual(deepMerge({ a: { b: 1 } }, { a: 'flat' }), { a: 'flat' });
    assert.deepEqual(deepMerge({ a: 'flat' }, { a: { b: 1 } }), { a: { b: 1 } });
  });

  it('never modifies its inputs and shares no containers with them', () => {
    const a = { pg: { listen: ['a'] } };
    const b = { pg: { port: 1 } };
    const out = deepMerge(a, b);
    (out.pg as { listen: string[] }).listen.push('z');
    assert.deepEqual(a, { pg: { listen: ['a'] } });
    assert.deepEqual(b, { pg: { port: 1 } });
  });

  it('keeps SecretRefs as leaves and __proto__ keys as data', () => {
    const ref = new SecretRef('c');
    const out = deepMerge({ s: { p: 'x' } }, { s: ref });
    assert.equal(out.s, ref);
    const evil = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const merged = deepMerge({}, evil);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(merged), ['__proto__']);
    assert.deepEqual(deepClone(merged), merged);
  });
});

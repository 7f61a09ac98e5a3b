import { strict as assert } from 'node:assert';
import {
  allocateAddresses,
  countNames,
  fixedAddress,
  fullName,
  shortName,
} from '../../../src/lab/addresses.js';
import { resolveUpNames } from '../../../src/lab/lab.js';
import { macFor, vethName } from '../../../src/lab/paths.js';

describe('lab/addresses', () => {
  it('gives primary, replica and labNN their fixed addresses', () => {
    assert.equal(fixedAddress('primary.example.com'), '10.213.0.11');
    assert.equal(fixedAddress('replica.example.com'), '10.213.0.12');
    assert.equal(fixedAddress('lab01.example.com'), '10.213.0.101');
    assert.equal(fixedAddress('lab50.example.com'), '10.213.0.150');
    // Past the first /24: .1-.250 of the next ones, never .0 or .255.
    assert.equal(fixedAddress('lab154.example.com'), '10.213.0.254');
    assert.equal(fixedAddress('lab155.example.com'), '10.213.1.1');
    assert.equal(fixedAddress('lab250.example.com'), '10.213.1.96');
    assert.equal(fixedAddress('lab404.example.com'), '10.213.1.250');
    assert.equal(fixedAddress('lab405.example.com'), '10.213.2.1');
    assert.equal(fixedAddress('lab501.example.com'), undefined);
    assert.equal(fixedAddress('db.example.com'), undefined);
  });

  it('hands other names the next free address from .20, skipping taken ones', () => {
    const existing = [
      { name: 'primary.example.com', ip: '10.213.0.11' },
      { name: 'web.example.com', ip: '10.213.0.20' },
      { name: 'old.example.com', ip: '10.213.0.22' },
    ];
    const got = allocateAddresses(
      ['a.example.com', 'b.example.com', 'replica.example.com', 'c.example.com'],
      existing,
    );
    assert.deepEqual(Object.fromEntries(got), {
      'a.example.com': '10.213.0.21',
      'b.example.com': '10.213.0.23',
      'replica.example.com': '10.213.0.12',
      'c.example.com': '10.213.0.24',
    });
  });

  it('refuses two names that would share a netns', () => {
    assert.throws(
      () => allocateAddresses(['primary.other.org'], [{ name: 'primary.example.com', ip: '10.213.0.11' }]),
      /orch-primary/,
    );
  });

  it('runs out of free addresses with an error, not a wrap-around', () => {
    const existing = Array.from({ length: 80 }, (_, i) => ({
      name: `h${i}.example.com`,
      ip: `10.213.0.${20 + i}`,
    }));
    assert.throws(() => allocateAddresses(['one-more.example.com'], existing), /no free lab address/);
  });

  it('expands bare labels and --count, defaulting to primary and replica', () => {
    assert.equal(fullName('Primary'), 'primary.example.com');
    assert.equal(fullName('db.corp.test'), 'db.corp.test');
    assert.throws(() => fullName('bad name'), /not a valid DNS name/);
    assert.equal(shortName('replica.example.com'), 'replica');
    assert.deepEqual(countNames(3), ['lab01.example.com', 'lab02.example.com', 'lab03.example.com']);
    assert.throws(() => countNames(-1), /--count/);
    assert.equal(countNames(250).length, 250);
    assert.throws(() => countNames(501), /--count/);
    assert.deepEqual(resolveUpNames([]), ['primary.example.com', 'replica.example.com']);
    assert.deepEqual(resolveUpNames([], 2), ['lab01.example.com', 'lab02.example.com']);
    assert.deepEqual(resolveUpNames(['db', 'primary.example.com'], 1), [
      'db.example.com',
      'primary.example.com',
      'lab01.example.com',
    ]);
  });

  it('derives a stable MAC and veth name from the address, so a rebuilt host keeps them', () => {
    assert.equal(macFor('10.213.0.11'), '02:0d:d5:00:00:0b');
    assert.equal(macFor('10.213.0.150'), '02:0d:d5:00:00:96');
    assert.equal(vethName('10.213.0.150'), 'orchv150');
    assert.equal(macFor('10.213.1.96'), '02:0d:d5:00:01:60');
    assert.equal(vethName('10.213.1.96'), 'orchv1-96');
  });
});

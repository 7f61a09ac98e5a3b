import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  entryMatches,
  fingerprint,
  formatKnownHosts,
  hashHostName,
  keyTypeOf,
  lookupNames,
  parseKnownHosts,
  type KnownHostEntry,
} from '../../../src/transport/known-hosts-format.js';
import { KnownHosts } from '../../../src/transport/known-hosts.js';

// Keys come from ssh-keygen: ssh2's own generator sometimes emits a 31-byte ed25519 key that OpenSSH rejects.
function newKey(type: 'ed25519' | 'ecdsa' = 'ed25519'): { blob: Buffer; b64: string; type: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-key-'));
  try {
    const file = path.join(dir, 'k');
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
    const [t, b64] = readFileSync(`${file}.pub`, 'utf8').split(' ');
    return { blob: Buffer.from(b64!, 'base64'), b64: b64!, type: t! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const host = (name: string, address: string, port = 22) => ({ name, address, port });
const entries = (text: string) =>
  parseKnownHosts(text).filter((l): l is KnownHostEntry => l.kind === 'entry');

describe('known_hosts format', () => {
  const k1 = newKey();
  const k2 = newKey('ecdsa');

  it('parses plain entries with several names and a comment', () => {
    const [e] = entries(`web1,10.0.0.1 ${k1.type} ${k1.b64} admin@laptop key\n`);
    assert.ok(e);
    assert.deepEqual(e.patterns, ['web1', '10.0.0.1']);
    assert.equal(e.keyType, 'ssh-ed25519');
    assert.equal(e.keyBase64, k1.b64);
    assert.equal(e.comment, 'admin@laptop key');
    assert.equal(e.marker, undefined);
    assert.equal(e.lineNo, 1);
  });

  it('keeps comments, blanks, markers and garbage verbatim on a round trip', () => {
    const text = [
      '# my hosts',
      '',
      `@revoked * ${k2.type} ${k2.b64}`,
      `@cert-authority *.example.com ${k1.type} ${k1.b64}`,
      'not a valid line',
      `web1 ssh-rsa ${k1.b64}`,
      `[db1]:2222 ${k2.type} ${k2.b64}`,
      '',
    ].join('\n');
    const lines = parseKnownHosts(text);
    assert.equal(formatKnownHosts(lines), text);
    const kinds = lines.map((l) => (l.kind === 'entry' ? (l.marker ?? 'entry') : 'other'));
    assert.deepEqual(kinds, ['other', 'other', 'revoked', 'cert-authority', 'other', 'other', 'entry']);
  });

  it('names hosts as OpenSSH does, bracketed with the port unless it is 22', () => {
    assert.deepEqual(lookupNames(host('Web1', '10.0.0.1')), ['web1', '10.0.0.1']);
    assert.deepEqual(lookupNames(host('db', '10.0.0.2', 2222)), ['[db]:2222', '[10.0.0.2]:2222']);
    assert.deepEqual(lookupNames(host('10.0.0.3', '10.0.0.3')), ['10.0.0.3']);
  });

  it('matches wildcards and honours negation', () => {
    const [e] = entries(`*.example.com,!bad.example.com ${k1.type} ${k1.b64}`);
    assert.ok(e);
    assert.equal(entryMatches(e, 'web.example.com'), true);
    assert.equal(entryMatches(e, 'WEB.Example.com'), true);
    assert.equal(entryMatches(e, 'bad.example.com'), false);
    assert.equal(entryMatches(e, 'example.com'), false);
    const [q] = entries(`db? ${k1.type} ${k1.b64}`);
    assert.equal(entryMatches(q!, 'db1'), true);
    assert.equal(entryMatches(q!, 'db12'), false);
  });

  it('matches hashed names the way ssh-keygen writes them', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-khfmt-'));
    try {
      const file = path.join(dir, 'kh');
      writeFileSync(file, `[db1]:2222 ${k1.type} ${k1.b64}\nweb1 ${k2.type} ${k2.b64}\n`);
      execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
      const hashed = entries(readFileSync(file, 'utf8'));
      assert.equal(hashed.length, 2);
      assert.ok(hashed.every((e) => e.patterns[0]!.startsWith('|1|')));
      assert.equal(entryMatches(hashed[0]!, '[db1]:2222'), true);
      assert.equal(entryMatches(hashed[0]!, 'db1'), false);
      assert.equal(entryMatches(hashed[1]!, 'WEB1'), true);
      // And the other way: ssh-keygen finds a name we hashed.
      writeFileSync(file, `${hashHostName('[web2]:2200')} ${k1.type} ${k1.b64}\n`);
      const found = execFileSync('ssh-keygen', ['-F', '[web2]:2200', '-f', file], { encoding: 'utf8' });
      assert.match(found, /Host \[web2\]:2200 found: line 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fingerprints like ssh-keygen -lf', () => {
    const want = `SHA256:${createHash('sha256').update(k1.blob).digest('base64').replace(/=+$/, '')}`;
    assert.equal(fingerprint(k1.blob), want);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-khfp-'));
    try {
      const file = path.join(dir, 'k.pub');
      writeFileSync(file, `${k1.type} ${k1.b64} x\n`);
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
      assert.equal(out.split(' ')[1], fingerprint(k1.blob));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(keyTypeOf(k2.blob), 'ecdsa-sha2-nistp256');
    assert.equal(keyTypeOf(Buffer.from('junk')), '');
  });
});

describe('KnownHosts store', () => {
  let dir: string;
  let file: string;
  const k1 = newKey();
  const k2 = newKey();
  const k3 = newKey('ecdsa');
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-kh-'));
    file = path.join(dir, 'sub', 'known_hosts');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty and says unknown when the file does not exist', () => {
    const kh = new KnownHosts(file);
    assert.deepEqual(kh.lines(), []);
    assert.deepEqual(kh.check(host('web1', '10.0.0.1'), k1.blob), { status: 'unknown' });
  });

  it('adds atomically with modes 0600/0700 and finds the key by name or by address', () => {
    const kh = new KnownHosts(file);
    kh.add(host('web1', '10.0.0.1', 2222), k1.blob);
    assert.equal(readFileSync(file, 'utf8'), `[web1]:2222,[10.0.0.1]:2222 ssh-ed25519 ${k1.b64}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    // A renamed host at the same address, or the same name at a new address, still matches.
    assert.equal(kh.check(host('web1', '10.9.9.9', 2222), k1.blob).status, 'known');
    assert.equal(kh.check(host('other', '10.0.0.1', 2222), k1.blob).status, 'known');
    assert.equal(kh.check(host('web1', '10.0.0.1', 22), k1.blob).status, 'unknown');
  });

  it('says changed when a name or the address is known under another key', () => {
    writeFileSync(file.replace('sub/', ''), `web1 ${k1.type} ${k1.b64}\n10.0.0.1 ${k2.type} ${k2.b64}\n`);
    const kh = new KnownHosts(file.replace('sub/', ''));
    const v = kh.check(host('web1', '10.0.0.1'), k1.blob);
    assert.equal(v.status, 'changed');
    assert.deepEqual(v.status === 'changed' && v.known.map((e) => e.lineNo), [2]);
    assert.equal(kh.check(host('web1', '10.0.0.2'), k3.blob).status, 'changed');
    assert.equal(kh.check(host('web1', '10.0.0.2'), k1.blob).status, 'known');
  });

  it('treats a @revoked key as revoked, even when also listed as trusted', () => {
    const f = path.join(dir, 'kh');
    writeFileSync(f, `web1 ${k1.type} ${k1.b64}\n@revoked * ${k1.type} ${k1.b64}\n`);
    const kh = new KnownHosts(f);
    const v = kh.check(host('web1', '10.0.0.1'), k1.blob);
    assert.equal(v.status, 'revoked');
    assert.equal(v.status === 'revoked' && v.entry.lineNo, 2);
  });

  it('accepts any of several keys recorded for a host (one per type)', () => {
    const f = path.join(dir, 'kh');
    writeFileSync(f, `web1 ${k3.type} ${k3.b64}\nweb1 ${k1.type} ${k1.b64}\n`);
    const kh = new KnownHosts(f);
    assert.equal(kh.check(host('web1', 'web1'), k1.blob).status, 'known');
    assert.equal(kh.check(host('web1', 'web1'), k3.blob).status, 'known');
  });

  it('looks up hashed entries', () => {
    const f = path.join(dir, 'kh');
    writeFileSync(f, `${hashHostName('[db1]:2222')} ${k1.type} ${k1.b64}\n`);
    const kh = new KnownHosts(f);
    assert.equal(kh.check(host('db1', '10.0.0.5', 2222), k1.blob).status, 'known');
    assert.equal(kh.check(host('db1', '10.0.0.5', 2222), k2.blob).status, 'changed');
  });

  it('replaces only the host own entries and keeps everything else byte for byte', () => {
    const f = path.join(dir, 'kh');
    const keep = [
      '# comment stays',
      `@revoked evil ${k3.type} ${k3.b64}`,
      `*.example.com ${k2.type} ${k2.b64}`,
      `web2 ${k2.type} ${k2.b64}`,
    ];
    writeFileSync(
      f,
      [
        keep[0],
        `web1,web3 ${k1.type} ${k1.b64}`,
        ...keep.slice(1),
        `${hashHostName('10.0.0.1')} ${k1.type} ${k1.b64}`,
        '',
      ].join('\n'),
    );
    const kh = new KnownHosts(f);
    kh.replace(host('web1', '10.0.0.1'), k2.blob);
    const text = readFileSync(f, 'utf8').split('\n');
    assert.deepEqual(text, [
      keep[0],
      `web3 ${k1.type} ${k1.b64}`,
      ...keep.slice(1),
      `web1,10.0.0.1 ${k2.type} ${k2.b64}`,
      '',
    ]);
    assert.equal(kh.check(host('web1', '10.0.0.1'), k2.blob).status, 'known');
    assert.equal(kh.check(host('web3', 'web3'), k1.blob).status, 'known');
  });

  it('forgets a host and reports how many lines it touched', () => {
    const f = path.join(dir, 'kh');
    writeFileSync(
      f,
      `web1 ${k1.type} ${k1.b64}\n[web1]:2222 ${k2.type} ${k2.b64}\nweb2 ${k2.type} ${k2.b64}\n`,
    );
    const kh = new KnownHosts(f);
    assert.equal(kh.forget(host('web1', 'web1')), 1);
    assert.equal(readFileSync(f, 'utf8'), `[web1]:2222 ${k2.type} ${k2.b64}\nweb2 ${k2.type} ${k2.b64}\n`);
    assert.equal(kh.forget(host('nobody', 'nobody')), 0);
  });

  it('sees changes another process wrote to the file', () => {
    const f = path.join(dir, 'kh');
    const kh = new KnownHosts(f);
    assert.equal(kh.check(host('web1', 'web1'), k1.blob).status, 'unknown');
    writeFileSync(f, `web1 ${k1.type} ${k1.b64} written elsewhere\n`);
    assert.equal(kh.check(host('web1', 'web1'), k1.blob).status, 'known');
  });
});

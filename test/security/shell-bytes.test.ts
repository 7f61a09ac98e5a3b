// Content reaches the host byte for byte on every shell: a fuzz of generated contents written through printContent
// by dash, bash, bash --posix and busybox sh, at top level, inside `$(...)`, inside a subshell and in a pipeline.
// Many cases go into one shell run per shell and context, so the whole fuzz takes seconds.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { printContent } from '../../src/shell/quote.js';

type Case = string | Buffer;

/** Deterministic PRNG (mulberry32), so a failure can be reproduced. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Delimiters the old here-document code used, and ones a future one might; every prefix of each is a case.
const DELIMS = ['ORCH_EOF', 'ORCH_EOF_1', 'ORCH_EOF_2', 'ORCH_SQL', 'ORCH_SQL_1', 'EOF', 'END'];
const PREFIXES = [...new Set(DELIMS.flatMap((d) => [...d].map((_, i) => d.slice(0, i + 1))))];
const NON_ASCII = ['ù', 'é', 'ÿ', '\u0080', '€', '😀', 'Où'];
const TAILS = [
  '',
  ')',
  '))',
  ' )',
  ';)',
  '\r',
  '\t',
  ' ',
  "'",
  '"',
  '`',
  '\\',
  '%',
  '%s',
  '$(',
  '}',
  ...NON_ASCII,
];
// Fragments that would act if they ever ran as shell: each touches a file named `pwned` in the run's directory.
const FRAGMENTS = [
  '$(touch pwned)',
  '`touch pwned`',
  "'; touch pwned; '",
  '"; touch pwned; "',
  ')\ntouch pwned\n',
  '%s%d%n%%',
  '\\',
  '\\\\n',
  '\\0',
  '\\101',
  '-n',
  '--',
  '-e',
  '${x:-y}',
  '$HOME',
  '#',
  '!',
  '*',
  '<<EOF',
  '\r\n',
  '\r',
  '\n',
  ' ',
  '\t',
  'plain text',
  'a'.repeat(1500),
];

function generateCases(n: number): Case[] {
  const rand = rng(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const cases: Case[] = ['', '\n', '\n\n', 'x', ')', '-', '-n', '%', '\\', "'", '\r', '\r\n', 'a\r\nb\r\n'];
  // Every delimiter prefix alone, with each tail, as a whole line, first line, last line without newline.
  for (const p of PREFIXES) {
    for (const t of TAILS) {
      cases.push(`${p}${t}\n`, `${p}${t}`, `x\n${p}${t}\ny\n`, `${p}${t}\r\n`);
    }
  }
  // Lone code points 0x80-0xff (written as UTF-8) and invalid UTF-8 as raw bytes, alone and after a prefix.
  for (let b = 0x80; b <= 0xff; b++) {
    const ch = String.fromCharCode(b);
    cases.push(ch, `${ch}\n`, `ORCH_EOF${ch}\n`, `O${ch}\n`);
    cases.push(
      Buffer.from([b]),
      Buffer.from([...Buffer.from('ORCH_E'), b, 0x0a]),
      Buffer.from([b, 0x0a, 0x29]),
    );
  }
  // Every byte value alone as raw bytes, NUL included.
  for (let b = 0; b <= 0xff; b++) cases.push(Buffer.from([b]), Buffer.from([0x2d, b, 0x0a]));
  // Random mixtures of lines built from the pieces above, with LF, CRLF or CR endings, and random raw bytes.
  while (cases.length < n) {
    if (rand() < 0.1) {
      const len = Math.floor(rand() * 64);
      cases.push(Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256))));
      continue;
    }
    const lines = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => {
      const kind = rand();
      if (kind < 0.35) return `${pick(PREFIXES)}${pick(TAILS)}`;
      if (kind < 0.7) return pick(FRAGMENTS);
      return `${pick(NON_ASCII)}${pick(FRAGMENTS)}${pick(TAILS)}`;
    });
    const eol = pick(['\n', '\n', '\n', '\r\n', '\r']);
    cases.push(lines.join(eol) + (rand() < 0.6 ? eol : ''));
  }
  return cases;
}

const SHELLS: Record<string, string[]> = {
  dash: ['dash'],
  bash: ['bash'],
  'bash --posix': ['bash', '--posix'],
  'busybox sh': ['busybox', 'sh'],
};

// Every case appends to one output file through its own redirect, after a separator line the harness writes, so
// cases are compared one by one without creating a file per case. A group of cases shares one `$(...)`, subshell
// or pipeline (one fork or exec per group rather than per case); the case last in a group is followed by the
// closing `)`, as in the generated scripts.
const sep = (i: number) => `printf '\\000orch-case-%s\\000' ${i}`;
const CONTEXTS: Record<string, { group: number; wrap: (cs: Case[], first: number) => string }> = {
  'top level': { group: 1, wrap: (cs, i) => `${sep(i)} >> "$f"\n${printContent(cs[0]!, '>> "$f"')}` },
  'x=$(...)': {
    group: 20,
    wrap: (cs, i) =>
      `x=$(${cs.map((c, k) => `${sep(i + k)} >> "$f"\n${printContent(c, '>> "$f"')}`).join('\n')})`,
  },
  '( ... ) subshell': {
    group: 20,
    wrap: (cs, i) =>
      `(\n${cs.map((c, k) => `${sep(i + k)} >> "$f"\n${printContent(c, '>> "$f"')}`).join('\n')}\n)`,
  },
  '| cat > pipeline': {
    group: 50,
    wrap: (cs, i) =>
      `{\n${cs.map((c, k) => `${sep(i + k)}\n${printContent(c)}`).join('\n')}\n} | cat >> "$f"`,
  },
};

const bytesOf = (c: Case): Buffer => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
const marker = (i: number) => Buffer.from(`\0orch-case-${i}\0`);

/** Run one shell over all cases in one context; returns the indexes of cases whose bytes differ. */
function runFuzz(
  cases: Case[],
  shell: string[],
  ctx: (typeof CONTEXTS)[string],
): { bad: number[]; pwned: boolean } {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-bytes-'));
  try {
    const parts = [`f=${path.join(dir, 'out')}`, ': > "$f"'];
    for (let i = 0; i < cases.length; i += ctx.group) parts.push(ctx.wrap(cases.slice(i, i + ctx.group), i));
    parts.push(`${sep(cases.length)} >> "$f"`, 'echo orch-fuzz-done');
    const script = `${parts.join('\n')}\n`;
    assert.match(script, /^[\x20-\x7e\n]*$/, 'the generated script is pure ASCII');
    // Read from a file: bash reads a script on a pipe one byte at a time, which would make this run take minutes.
    // (The file.line regression test runs its batches on stdin, as the transport sends them.)
    writeFileSync(path.join(dir, 'script.sh'), script);
    const r = spawnSync(shell[0]!, [...shell.slice(1), 'script.sh'], { cwd: dir, maxBuffer: 1 << 26 });
    const got = readFileSync(path.join(dir, 'out'));
    const bad: number[] = [];
    let at = 0;
    for (let i = 0; i < cases.length; i++) {
      // Case i sits between its marker and the next; a missing marker means the case (or the run) went wrong.
      const from = got.indexOf(marker(i), at);
      const to = from < 0 ? -1 : got.indexOf(marker(i + 1), from);
      if (from < 0 || to < 0 || !got.subarray(from + marker(i).length, to).equals(bytesOf(cases[i]!)))
        bad.push(i);
      if (to >= 0) at = to;
    }
    if (!r.stdout.toString().includes('orch-fuzz-done')) bad.push(-1);
    return { bad, pwned: existsSync(path.join(dir, 'pwned')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('security: content reaches the host byte-exact on every shell', function () {
  this.timeout(180_000);
  const cases = generateCases(10_000);

  const total = cases.length * Object.keys(SHELLS).length * Object.keys(CONTEXTS).length;
  it(`writes ${cases.length} generated contents exactly on 4 shells in 4 contexts (${total} writes)`, () => {
    assert.ok(cases.length >= 10_000);
    for (const p of PREFIXES)
      assert.ok(
        cases.some((c) => c === `${p})\n`),
        `prefix ${p} with ')' is a case`,
      );
    const failures: string[] = [];
    let runs = 0;
    for (const [shellName, shell] of Object.entries(SHELLS)) {
      for (const [ctxName, ctx] of Object.entries(CONTEXTS)) {
        const { bad, pwned } = runFuzz(cases, shell, ctx);
        runs += cases.length;
        if (pwned) failures.push(`${shellName}, ${ctxName}: content ran as shell (pwned file created)`);
        if (bad.length) {
          const first = bad
            .filter((i) => i >= 0)
            .slice(0, 3)
            .map((i) => JSON.stringify(String(cases[i])));
          failures.push(`${shellName}, ${ctxName}: ${bad.length} mismatches, e.g. ${first.join(', ')}`);
        }
      }
    }
    assert.equal(runs, total);
    assert.deepEqual(failures, [], failures.join('\n'));
  });
});

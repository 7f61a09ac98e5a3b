// The wall-time plot (bench/results/wall-time.svg), drawn by hand: one panel per scenario, wall time (log scale) vs
// number of hosts, one line per tool and RTT. Pure: results in, SVG text out.
import { SCENARIOS, pick } from './report.js';
import type { BenchResults } from './types.js';

const W = 320;
const H = 260;
const M = { left: 52, right: 12, top: 34, bottom: 42 };
const COLORS: Record<string, string> = { orch: '#1f77b4', ansible: '#d62728' };
const DASHES = ['', '6 4', '2 3', '8 3 2 3'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number): string => String(Math.round(v * 10) / 10);

/** Log-scale ticks (1, 2, 5 per decade) covering [lo, hi]. */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(Number(v.toPrecision(3)));
    }
  }
  return out;
}

/** The SVG chart of wall time vs N. */
export function renderWallTimeSvg(r: BenchResults): string {
  const sizes = [...r.settings.sizes].sort((a, b) => a - b);
  const values = r.results.map((x) => x.wallS).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 1)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (n: number): number =>
    M.left + (sizes.length === 1 ? pw / 2 : (sizes.indexOf(n) / (sizes.length - 1)) * pw);
  const y = (v: number): number =>
    M.top + ph - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
  const ticks = logTicks(lo, hi);
  const panels = SCENARIOS.map((s, i) => {
    const parts: string[] = [`<g transform="translate(${i * W},0)">`];
    parts.push(
      `<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(s.title.replace(/ \(.*/, ''))}</text>`,
    );
    for (const t of ticks) {
      parts.push(
        `<line x1="${M.left}" x2="${W - M.right}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="#ddd"/>`,
        `<text x="${M.left - 4}" y="${num(y(t) + 4)}" text-anchor="end">${t}</text>`,
      );
    }
    for (const n of sizes) {
      parts.push(`<text x="${num(x(n))}" y="${H - M.bottom + 16}" text-anchor="middle">${n}</text>`);
    }
    parts.push(
      `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">hosts (N)</text>`,
      `<text transform="translate(14,${M.top + ph / 2}) rotate(-90)" text-anchor="middle">wall time, s (log)</text>`,
      `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    );
    r.settings.rtts.forEach((rtt, ri) => {
      for (const tool of ['orch', 'ansible']) {
        const pts = sizes.flatMap((n) => {
          const p = pick(r, tool, s.id, rtt, n);
          return p && p.wallS > 0 ? [[x(n), y(p.wallS)] as const] : [];
        });
        if (pts.length === 0) continue;
        const dash = DASHES[ri % DASHES.length]!;
        parts.push(
          `<polyline fill="none" stroke="${COLORS[tool]}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.map(([a, b]) => `${num(a)},${num(b)}`).join(' ')}"/>`,
          ...pts.map(([a, b]) => `<circle cx="${num(a)}" cy="${num(b)}" r="3" fill="${COLORS[tool]}"/>`),
        );
      }
    });
    parts.push('</g>');
    return parts.join('\n');
  });
  const legend: string[] = [];
  let lx = 10;
  r.settings.rtts.forEach((rtt, ri) => {
    for (const tool of ['orch', 'ansible']) {
      const dash = DASHES[ri % DASHES.length]!;
      legend.push(
        `<line x1="${lx}" x2="${lx + 28}" y1="${H + 14}" y2="${H + 14}" stroke="${COLORS[tool]}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
        `<text x="${lx + 34}" y="${H + 18}">${tool === 'orch' ? 'orch' : 'Ansible'}, ${rtt} ms RTT</text>`,
      );
      lx += 150;
    }
  });
  const width = W * SCENARIOS.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 30}" viewBox="0 0 ${width} ${H + 30}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${panels.join('\n')}
${legend.join('\n')}
</svg>
`;
}

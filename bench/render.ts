// Re-render BENCHMARKS.md and the SVG from a results file, without running anything (after a change to the
// renderers). Usage: node --import tsx bench/render.ts bench/results/<date>.json
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderBenchmarks } from './report.js';
import { renderWallTimeSvg } from './svg.js';
import type { BenchResults } from './types.js';

const REPO = path.resolve(import.meta.dirname, '..');
const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node --import tsx bench/render.ts bench/results/<date>.json\n');
  process.exit(2);
}
const data = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
const outDir = path.dirname(path.resolve(file));
const md = path.join(REPO, 'BENCHMARKS.md');
const rel = (f: string): string => path.relative(REPO, path.join(outDir, f));
writeFileSync(path.join(outDir, 'wall-time.svg'), renderWallTimeSvg(data));
writeFileSync(
  md,
  renderBenchmarks(data, { resultsFile: rel(path.basename(file)), svgFile: rel('wall-time.svg') }),
);
process.stderr.write(`wrote ${md} and ${path.join(outDir, 'wall-time.svg')}\n`);

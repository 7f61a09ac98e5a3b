// Sections of BENCHMARKS.md that separate benches own (the controller-alone simulation, the --async start, the
// flagship job): each lives in bench/results/<name>.md, is spliced into BENCHMARKS.md between its markers by the
// bench that measures it, and is kept by `npm run bench` when it rewrites the page.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..');
export const SECTION_NAMES = ['controller-sim', 'async-start', 'flagship'] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

const begin = (n: string): string => `<!-- section:${n} -->`;
const end = (n: string): string => `<!-- /section:${n} -->`;

export function sectionFile(name: SectionName): string {
  return path.join(REPO, 'bench', 'results', `${name}.md`);
}

/** Every stored section, each wrapped in its markers, in a fixed order. */
export function storedSections(): string[] {
  return SECTION_NAMES.filter((n) => existsSync(sectionFile(n))).map(
    (n) => `${begin(n)}\n${readFileSync(sectionFile(n), 'utf8').trim()}\n${end(n)}`,
  );
}

/** Store a section and put it into BENCHMARKS.md: in place of its old text, else before "## Machine and versions". */
export function writeSection(
  name: SectionName,
  markdown: string,
  mdPath = path.join(REPO, 'BENCHMARKS.md'),
): void {
  writeFileSync(sectionFile(name), `${markdown.trim()}\n`);
  const block = `${begin(name)}\n${markdown.trim()}\n${end(name)}`;
  let page = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
  const a = page.indexOf(begin(name));
  const b = page.indexOf(end(name));
  if (a >= 0 && b > a) page = page.slice(0, a) + block + page.slice(b + end(name).length);
  else {
    const at = page.indexOf('## Machine and versions');
    page = at >= 0 ? `${page.slice(0, at)}${block}\n\n${page.slice(at)}` : `${page.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(mdPath, page);
}

// The template loader: nunjucks' FileSystemLoader over the project's templates/ and states/, confined to them.
// Nunjucks' own check is a string prefix test on the unresolved path, so `../templates-evil/x` (a sibling whose
// name starts with the same letters) and a symlink pointing out of the tree both got through. Here every
// candidate is resolved with realpath and must lie inside the real search directory it was found through,
// compared by path segment. Every way to reach a template goes through getSource: a state's `source:`, and
// include/import/extends inside templates.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { ValueError } from './grammar.js';

/** A template name that leads outside the project's template directories. */
export class TemplatePathError extends ValueError {}

/** True when `child` is `parent` or lies below it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

export class ConfinedLoader extends nunjucks.FileSystemLoader {
  private readonly roots: string[];

  constructor(searchPaths: string[]) {
    super(searchPaths, { noCache: false });
    this.roots = searchPaths.map((p) => path.resolve(p));
  }

  override getSource(name: string): nunjucks.LoaderSource {
    if (name.includes('\0'))
      throw new TemplatePathError(`template name ${JSON.stringify(name)} contains NUL`, []);
    for (const root of this.roots) {
      const candidate = path.resolve(root, name);
      if (!existsSync(candidate)) continue;
      const realRoot = realpathSync(root);
      const real = realpathSync(candidate);
      if (!isInside(realRoot, real)) {
        const shown = path.basename(root);
        throw new TemplatePathError(
          `template ${JSON.stringify(name)} resolves outside ${shown}/ (to ${real}); templates must stay inside the project's ${shown}/ directory`,
          [],
        );
      }
      const source = { src: readFileSync(real, 'utf8'), path: candidate, noCache: false };
      (this as unknown as { pathsToNames: Record<string, string> }).pathsToNames[candidate] = name;
      this.emit('load', name, source);
      return source;
    }
    // Not found anywhere: nunjucks reports "template not found".
    return null as unknown as nunjucks.LoaderSource;
  }
}

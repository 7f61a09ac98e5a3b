// npm run docs: writes the generated reference pages (docs/STATES.md, docs/EXIT-CODES.md). test/unit/cli/docs.test.ts
// fails when a checked-in page differs from what this writes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatedDocs } from '../src/cli/format/docs.js';

const root = path.resolve(import.meta.dirname, '..');
for (const [file, text] of Object.entries(generatedDocs())) {
  writeFileSync(path.join(root, file), text);
  process.stdout.write(`wrote ${file}\n`);
}

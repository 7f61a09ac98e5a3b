// Reads the hand-written probe outputs in test/fixtures/facts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/facts');

export function fixture(name: string): string {
  return readFileSync(path.join(dir, name), 'utf8');
}

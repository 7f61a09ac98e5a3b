// The generated pages of docs/, by path: written by `npm run docs`, compared by a unit test.
import { stateDocs } from '../../states/reference.js';
import { exitCodesMarkdown, statesMarkdown } from './reference.js';

export function generatedDocs(): Record<string, string> {
  return { 'docs/STATES.md': statesMarkdown(stateDocs()), 'docs/EXIT-CODES.md': exitCodesMarkdown() };
}

// Exit codes of every verb, for the CLI's verbs: the table itself is src/errors/codes.ts (below every module).
export { EXIT } from '../errors/codes.js';
export { exitCodeFor } from '../errors.js';

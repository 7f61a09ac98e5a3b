// The file.* state functions other than file.managed (registered directly), keyed by `module.function`.
import type { AnyStateFunction } from '../types.js';
import { fileAbsent } from './absent.js';
import { fileDirectory } from './directory.js';
import { fileLine } from './line.js';
import { fileManaged } from './managed.js';

export const fileStates: Record<string, AnyStateFunction> = {
  'file.managed': fileManaged,
  'file.directory': fileDirectory,
  'file.absent': fileAbsent,
  'file.line': fileLine,
};

// A kind of job (apply, run, drift, and the lifecycle verbs to come): the schema of its stored arguments, how a
// worker runs it and how `orch jobs list|lookup` summarise it. A new kind is one module exporting a JobKind and
// one entry in kinds.ts; the worker and the job views need no other change.
import { z } from 'zod';
import type { ProjectConfig } from '../config/project.js';
import type { HostSpec } from '../inventory/types.js';
import type { JobContext, JobOutcome, RecordOptions } from './record.js';
import type { JobRecord } from './store.js';

/** Arguments every kind stores: how the target was narrowed and the project options a worker must see again. */
export const commonJobArgs = {
  group: z.string().optional().describe('only hosts of this group'),
  limit: z.string().optional().describe('a second target the hosts must also match'),
  hosts: z
    .array(z.string())
    .optional()
    .describe('the hosts the target resolved to when the job was made (for listing; workers resolve again)'),
  inventory: z.array(z.string()).optional().describe('inventory paths given on the command line'),
  parallel: z.number().int().positive().optional().describe('hosts worked on at once (-j)'),
  acceptNewHostkeys: z.boolean().optional().describe('record unknown host keys'),
  retries: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('extra attempts at opening a connection that failed to open (--retries)'),
};

/** What a kind's record options may set (the rest is the worker's). */
export type KindRecordOptions = Pick<RecordOptions, 'lockHosts' | 'wait' | 'waitTimeoutMs'>;

export interface JobKind<A = Record<string, unknown>> {
  verb: string;
  /** The stored arguments; a worker validates what it reads against this instead of trusting the row. */
  args: z.ZodType<A>;
  /** How the job is recorded: hosts it locks, whether it waits for them. Default: no locks. */
  recordOptions?(args: A, hosts: HostSpec[]): KindRecordOptions;
  /** Run the job over resolved hosts; host results go to ctx as they arrive. It neither prints nor opens stores. */
  run(project: ProjectConfig, hosts: HostSpec[], args: A, ctx: JobContext): Promise<JobOutcome>;
  /** The word `orch jobs list` shows for a finished job instead of its status (drift: clean, drifted). */
  statusLabel?(job: JobRecord): string | undefined;
  /** The COUNTS column of `orch jobs list` for a finished job. */
  countsText?(job: JobRecord): string | undefined;
  /** The body of `orch jobs lookup` after its header; undefined falls back to the generic view. */
  lookupText?(job: JobRecord, opts: { verbose?: boolean }): string | undefined;
}

/** A kind with its argument type erased, as the registry holds it (its methods take what its schema gave). */
export type AnyJobKind = JobKind<unknown>;

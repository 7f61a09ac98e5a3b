// A separate process acting on a job store, for tests that need a second process: it opens the store from a spec
// (as ORCH_JOB_STORE holds it), does one thing, prints JSON on stdout and exits. Used only by test/unit/jobs.
//   claim <spec> <worker>         claim until the queue is empty; prints the claimed ids
//   create <spec> <count>         create count queued jobs as fast as possible; prints their ids
//   get <spec> <jid>              prints the job record (or null)
// With ORCH_TEST_BARRIER=<path>, it writes <path>.<pid>.ready once the store is open and waits for <path>.go, so a
// test can start several children's work at the same moment.
import { existsSync, writeFileSync } from 'node:fs';
import { openJobStoreAt } from '../../src/jobs/open.js';

async function barrier(): Promise<void> {
  const base = process.env.ORCH_TEST_BARRIER;
  if (!base) return;
  writeFileSync(`${base}.${process.pid}.ready`, '');
  for (let i = 0; i < 6000 && !existsSync(`${base}.go`); i++) await new Promise((r) => setTimeout(r, 5));
}

async function main(): Promise<void> {
  const [mode, spec, arg] = process.argv.slice(2);
  if (!mode || !spec || !arg) throw new Error('usage: job-store-child claim|create|get <spec> <arg>');
  const store = await openJobStoreAt(spec, process.cwd());
  try {
    await barrier();
    if (mode === 'claim') {
      const got: string[] = [];
      for (let i = 0; i < 10_000; i++) {
        const job = await store.claimNext(arg, 60_000);
        if (!job) break;
        got.push(job.jid);
      }
      process.stdout.write(JSON.stringify(got));
    } else if (mode === 'create') {
      const ids = await Promise.all(
        Array.from({ length: Number(arg) }, (_, i) =>
          store.create({
            verb: 'run',
            target: `child-${process.pid}`,
            args: { i },
            user: 'child',
            status: 'queued',
          }),
        ),
      );
      process.stdout.write(JSON.stringify(ids.map((j) => j.jid)));
    } else if (mode === 'get') {
      process.stdout.write(JSON.stringify(await store.get(arg)));
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

// The bench's command line: sizes, RTTs, runs per point, quick mode. Pure parsing, no I/O.

export interface BenchArgs {
  sizes: number[];
  rtts: number[];
  /** Runs per point for every tool (--runs); undefined: the default plan (runsFor). */
  runs?: number;
  quick: boolean;
  build: boolean;
  /** Also count Ansible's exec channels with an untimed -vvv run per scenario (at the smallest size). */
  countAnsibleExecs: boolean;
  /** Then run the flagship job bench (bench/flagship.ts); off with --quick or --no-flagship. */
  flagship: boolean;
}

const USAGE = `usage: npm run bench -- [--quick] [--sizes 2,10,50] [--rtts 0,20] [--runs K] [--no-build] [--no-exec-count]
                  [--no-flagship]
  --quick          sizes 2,10 and one run per point (smoke run; no flagship job)
  --sizes a,b,c    numbers of lab hosts (1..99; default 2,10,50)
  --rtts a,b       round-trip times added by the proxies, in ms (default 0,20)
  --runs K         runs per point for both tools at every point (default plan: orch 3 everywhere; Ansible 3 at
                   N <= 2, 1 at larger N, and at N > 10 only at the largest RTT, to bound the bench's time)
  --no-build       use dist/ as it is (default: compile with tsc first)
  --no-exec-count  skip the untimed Ansible -vvv runs that count its exec channels
  --no-flagship    skip the flagship job afterwards (npm run bench:flagship: the replication formula vs a
                   community.postgresql playbook, primary + 1 and + 3 replicas, 3 runs)`;

function numbers(flag: string, v: string | undefined, min: number, max: number): number[] {
  if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < min || n > max)) {
    throw new Error(`${flag}: expected integers ${min}..${max}, comma-separated, got '${v}'`);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** Parse argv (without node and the script); throws with the usage on bad input. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let sizes: number[] | undefined;
  let rtts = [0, 20];
  let runs: number | undefined;
  let quick = false;
  let build = true;
  let countAnsibleExecs = true;
  let flagship = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--sizes') sizes = numbers(a, argv[++i], 1, 99);
    else if (a === '--rtts') rtts = numbers(a, argv[++i], 0, 1000);
    else if (a === '--runs') runs = numbers(a, argv[++i], 1, 20)[0];
    else if (a === '--no-build') build = false;
    else if (a === '--no-exec-count') countAnsibleExecs = false;
    else if (a === '--no-flagship') flagship = false;
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  const finalSizes = sizes ?? (quick ? [2, 10] : [2, 10, 50]);
  return {
    sizes: finalSizes,
    rtts,
    runs: runs ?? (quick ? 1 : undefined),
    quick,
    build,
    countAnsibleExecs,
    flagship: flagship && !quick,
  };
}

/**
 * Runs of `tool` at size n and RTT rtt (0: not measured). Ansible needs about 1 s per task per host on this
 * machine kind, so its large sizes get one run, and the largest size only the largest RTT (the targets' RTT).
 */
export function runsFor(
  args: Pick<BenchArgs, 'runs' | 'rtts'>,
  tool: 'orch' | 'ansible',
  n: number,
  rtt: number,
): number {
  if (args.runs !== undefined) return args.runs;
  if (tool === 'orch') return 3;
  if (n <= 2) return 3;
  if (n <= 10) return 1;
  return rtt === Math.max(...args.rtts) ? 1 : 0;
}

// Ending a host's processes: only those inside the host's netns (`ip netns pids`), by pid; SIGTERM, a bounded
// wait, then SIGKILL. Nothing outside the lab's namespaces is signalled.
import { netnsPids } from './network.js';
import { processAlive } from './sshd.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(processAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(processAlive);
  }
  return left;
}

/** End every process in the netns; returns the pids still alive after all rounds (normally none). */
export async function killNetnsProcesses(netns: string, termWaitMs = 5000): Promise<number[]> {
  let left: number[] = [];
  // A few rounds: a dying sshd or postmaster may still fork children while we look.
  for (let round = 0; round < 3; round++) {
    const pids = (await netnsPids(netns)).filter(processAlive);
    if (pids.length === 0) return [];
    signal(pids, 'SIGTERM');
    left = await waitGone(pids, termWaitMs);
    if (left.length > 0) {
      signal(left, 'SIGKILL');
      left = await waitGone(left, 3000);
    }
  }
  return [...new Set([...left, ...(await netnsPids(netns)).filter(processAlive)])];
}

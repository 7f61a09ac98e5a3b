// Measuring the latency the proxy gives: one SSH connection through it (ssh2, key auth, host key checked against the
// lab's), then a few trivial execs timed. A trivial exec is two round trips (channel open, then exec request and
// its exit), so RTT ≈ (exec time at this setting − exec time at 0 ms) / 2.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Client } from 'ssh2';
import { median } from './stats.js';

/** Median wall time (ms) of `samples` execs of `true` over one connection to host:port. */
export function timeTrivialExec(opts: {
  host: string;
  port: number;
  key: string;
  hostKeys: string[];
  samples?: number;
}): Promise<number> {
  const allowed = new Set(opts.hostKeys.map((k) => k.split(' ')[1]));
  return new Promise((resolve, reject) => {
    const c = new Client();
    const timer = setTimeout(() => {
      c.end();
      reject(new Error(`RTT probe to ${opts.host}:${opts.port} timed out`));
    }, 60_000);
    const execOnce = (): Promise<number> =>
      new Promise((res, rej) => {
        const t0 = performance.now();
        c.exec('true', (err, ch) => {
          if (err) return rej(err);
          ch.on('close', () => res(performance.now() - t0));
          ch.resume();
          ch.stderr.resume();
        });
      });
    c.on('ready', async () => {
      try {
        const times: number[] = [];
        await execOnce(); // warm-up
        for (let i = 0; i < (opts.samples ?? 5); i++) times.push(await execOnce());
        clearTimeout(timer);
        c.end();
        resolve(median(times));
      } catch (err) {
        clearTimeout(timer);
        c.end();
        reject(err);
      }
    });
    c.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // Nagle off, as orch does: otherwise small exec requests wait for delayed ACKs.
    const sock = net.connect({ host: opts.host, port: opts.port, noDelay: true });
    c.connect({
      sock,
      username: 'root',
      privateKey: readFileSync(opts.key),
      readyTimeout: 30_000,
      hostVerifier: (key: Buffer) => allowed.has(key.toString('base64')),
    });
  });
}

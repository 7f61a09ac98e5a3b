// A delaying TCP proxy in front of one lab host's sshd: the bench's stand-in for network latency (this kernel has no
// netem). Every chunk is held for the one-way delay (RTT/2) in each direction, order kept. It only forwards bytes
// between its own listener and the given target; it never reads or changes what flows through.
import net from 'node:net';

export interface DelayProxy {
  /** Address and port clients connect to. */
  host: string;
  port: number;
  /** Change the round-trip time added from now on (half each way). */
  setRttMs(ms: number): void;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export interface ProxyOptions {
  listenHost?: string;
  targetHost: string;
  targetPort?: number;
  rttMs?: number;
}

/** Forward `from` to `to`, delaying each chunk by the current one-way delay; timers of equal delay fire in order. */
function pump(from: net.Socket, to: net.Socket, oneWay: () => number): void {
  // A monotonic release time per direction keeps order even if the delay is changed while bytes are in flight.
  let lastRelease = 0;
  let pending = 0;
  let ended = false;
  const write = (chunk: Buffer): void => {
    if (!to.destroyed && !to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  };
  from.on('data', (chunk: Buffer) => {
    const d = oneWay();
    if (d <= 0 && pending === 0) return write(chunk);
    const release = Math.max(performance.now() + d, lastRelease);
    lastRelease = release;
    pending++;
    setTimeout(
      () => {
        pending--;
        write(chunk);
        if (pending === 0 && ended) to.end();
      },
      Math.max(0, release - performance.now()),
    );
  });
  from.on('end', () => {
    ended = true;
    if (pending === 0) to.end();
  });
}

/** Start a proxy listening on listenHost (default 127.0.0.1) at an ephemeral port, forwarding to target:22. */
export function startDelayProxy(opts: ProxyOptions): Promise<DelayProxy> {
  let oneWay = (opts.rttMs ?? 0) / 2;
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (client) => {
    count++;
    const upstream = net.connect({ host: opts.targetHost, port: opts.targetPort ?? 22, noDelay: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    pump(client, upstream, () => oneWay);
    pump(upstream, client, () => oneWay);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.listenHost ?? '127.0.0.1', () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        host: addr.address,
        port: addr.port,
        setRttMs: (ms) => {
          oneWay = ms / 2;
        },
        accepted: () => count,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

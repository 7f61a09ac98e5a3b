import { strict as assert } from 'node:assert';
import net from 'node:net';
import { startDelayProxy } from '../../../bench/proxy.js';

/** An echo server on loopback; returns its port and a closer. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Round trip of one small message through the proxy, in ms. */
function roundTrip(port: number, msg: string): Promise<{ ms: number; echoed: string }> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => {
      const t0 = performance.now();
      let got = '';
      c.on('data', (d) => {
        got += d.toString();
        if (got.length >= msg.length) {
          c.end();
          resolve({ ms: performance.now() - t0, echoed: got });
        }
      });
      c.write(msg);
    });
    c.on('error', reject);
  });
}

describe('bench delaying proxy', () => {
  it('adds the set round-trip time and keeps bytes and order', async () => {
    const echo = await echoServer();
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: echo.port, rttMs: 40 });
    try {
      const r = await roundTrip(proxy.port, 'hello');
      assert.equal(r.echoed, 'hello');
      // A lower bound only: the delay must be there; how much longer a loaded machine takes is not the question.
      assert.ok(r.ms >= 36, `round trip ${r.ms} ms`);
      proxy.setRttMs(0);
      const fast = await roundTrip(proxy.port, 'x'.repeat(1000));
      assert.equal(fast.echoed, 'x'.repeat(1000));
      assert.equal(proxy.accepted(), 2);
    } finally {
      await proxy.close();
      await echo.close();
    }
  });

  it('many chunks under delay arrive complete and in order', async () => {
    const echo = await echoServer();
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: echo.port, rttMs: 10 });
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const want = Array.from({ length: 200 }, (_, i) => `${i};`).join('');
        const c = net.connect({ host: '127.0.0.1', port: proxy.port, noDelay: true }, () => {
          let buf = '';
          c.on('data', (d) => {
            buf += d.toString();
            if (buf.length >= want.length) {
              c.end();
              resolve(buf);
            }
          });
          for (let i = 0; i < 200; i++) c.write(`${i};`);
        });
        c.on('error', reject);
      });
      assert.equal(got, Array.from({ length: 200 }, (_, i) => `${i};`).join(''));
    } finally {
      await proxy.close();
      await echo.close();
    }
  });
});

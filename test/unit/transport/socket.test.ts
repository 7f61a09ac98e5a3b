import { strict as assert } from 'node:assert';
import net from 'node:net';
import { HostUnreachableError } from '../../../src/errors.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { labRefusal, openSocket } from '../../../src/transport/socket.js';

function host(over: Partial<HostSpec>): HostSpec {
  return {
    name: 'h1',
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    groups: [],
    vars: {},
    source: { file: 'inventory/hosts.yaml' },
    ...over,
  };
}

describe('transport/socket lab guard', () => {
  it('refuses a lab host while the lab bridge is absent', () => {
    const why = labRefusal({ lab: true, address: '10.213.0.11' }, () => false);
    assert.match(why ?? '', /lab is down/);
  });

  it('lets a lab host through while the bridge is up', () => {
    assert.equal(
      labRefusal({ lab: true, address: '10.213.0.11' }, () => true),
      undefined,
    );
    // lab155 and later sit past the first /24 of the lab's /16.
    assert.equal(
      labRefusal({ lab: true, address: '10.213.1.96' }, () => true),
      undefined,
    );
  });

  it('refuses a lab host whose address is outside the lab range, bridge or not', () => {
    for (const up of [true, false]) {
      assert.match(labRefusal({ lab: true, address: '192.0.2.7' }, () => up) ?? '', /not in the lab range/);
    }
  });

  it('does not check a non-lab host in 10.213.0.0/16, and does not even look for the bridge', () => {
    let looked = false;
    const why = labRefusal({ address: '10.213.0.11' }, () => {
      looked = true;
      return false;
    });
    assert.equal(why, undefined);
    assert.equal(looked, false);
  });

  it('openSocket applies the guard before dialling a lab host', async () => {
    await assert.rejects(openSocket(host({ lab: true }), 1000), (err: unknown) => {
      assert.ok(err instanceof HostUnreachableError);
      assert.match(
        err.message,
        /h1 \(127\.0\.0\.1:22\): a lab host \(lab: true, or the lab key\), but its address is not in the lab range/,
      );
      return true;
    });
  });

  it('openSocket dials a non-lab host normally', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const sock = await openSocket(host({ port }), 2000);
      assert.equal(sock.remotePort, port);
      sock.destroy();
    } finally {
      server.close();
    }
  });
});

// The local Connection (src/transport/local.ts) for unit tests of the engine and of state modules' generated shell,
// and a HostSpec to go with it.
import type { HostSpec } from '../../src/inventory/types.js';

export { LocalConnection, localConnector } from '../../src/transport/local.js';

/** A HostSpec for tests. */
export function testHost(name = 'local.example.com'): HostSpec {
  return {
    name,
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    groups: [],
    vars: {},
    source: { file: 'test' },
  };
}

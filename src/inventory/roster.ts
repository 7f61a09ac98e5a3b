// A salt-ssh roster file (`<id>: {host, user, port, priv, sudo, ...}`) as orch's inventory document. Salt's meanings
// (salt-ssh roster docs): host defaults to the id, user to root, port to 22; `priv` is the private key
// (`agent-forwarding` means the ssh agent); `sudo: True` runs as root through sudo (`sudo_user` another user);
// `grains` become the host's vars. A password or a key we do not know is refused, never ignored.
import { InputError } from '../errors.js';
import { lineOf } from '../render/yaml.js';
import type { ForeignInventory } from './foreign.js';

const KNOWN = new Set(['host', 'user', 'port', 'priv', 'sudo', 'sudo_user', 'grains']);
const REFUSED: Record<string, string> = {
  passwd: 'orch logs in with keys or the ssh agent, never a password',
  priv_passwd: 'orch does not unlock keys; load the key into the ssh agent',
  tty: 'orch runs without a tty',
};

export function readRoster(doc: Record<string, unknown>, display: string): ForeignInventory {
  const hosts: Record<string, unknown> = {};
  const hostLines = new Map<string, number>();
  for (const [id, raw] of Object.entries(doc)) {
    const line = lineOf(doc, id);
    if (line) hostLines.set(id, line);
    const entry = raw === null ? {} : raw;
    if (typeof entry !== 'object' || Array.isArray(entry))
      throw new InputError(
        'INVENTORY_ERROR',
        `roster entry ${id}: expected a mapping (host, user, port, priv, sudo)`,
        {
          file: display,
          line,
        },
      );
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      const at = { file: display, line: lineOf(e, k) ?? line };
      if (k in REFUSED)
        throw new InputError('INVENTORY_ERROR', `roster entry ${id}: ${k}: ${REFUSED[k]}`, at);
      if (!KNOWN.has(k))
        throw new InputError(
          'INVENTORY_ERROR',
          `roster entry ${id}: '${k}' is not supported (orch reads ${[...KNOWN].join(', ')})`,
          at,
        );
    }
    const host: Record<string, unknown> = {};
    if (e.host !== undefined) host.address = String(e.host);
    if (e.port !== undefined)
      host.port = typeof e.port === 'string' && /^\d+$/.test(e.port) ? Number(e.port) : e.port;
    if (e.user !== undefined) host.user = String(e.user);
    if (e.priv !== undefined && e.priv !== 'agent-forwarding') host.identity = String(e.priv);
    if (e.sudo === true) host.become = e.sudo_user !== undefined ? { user: String(e.sudo_user) } : true;
    if (e.grains !== undefined) host.vars = e.grains;
    hosts[id] = host;
  }
  return { doc: { hosts }, hostLines, groupLines: new Map() };
}

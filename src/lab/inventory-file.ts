// Pure rendering of the inventory file the lab exports (the format the inventory loader reads). No I/O.

/** A YAML scalar: plain when unambiguous, otherwise a JSON string (valid YAML double-quoted). */
function scalar(v: string): string {
  if (
    /^[A-Za-z0-9_./-]+$/.test(v) &&
    !/^(true|false|null|yes|no|on|off|~)$/i.test(v) &&
    !/^[-+]?[0-9.]+$/.test(v)
  ) {
    return v;
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v)) return v;
  return JSON.stringify(v);
}

/** The inventory listing every lab host, logging in as root with the lab key, each marked `lab: true`. */
export function renderInventory(
  identity: string,
  hosts: ReadonlyArray<{ name: string; ip: string }>,
): string {
  const sorted = [...hosts].sort((a, b) => a.name.localeCompare(b.name));
  const lines = [
    '# Written by `orch lab up/down`: every lab host. Rewritten on each lab change; do not edit.',
    `defaults: { user: root, port: 22, identity: ${scalar(identity)} }`,
  ];
  if (sorted.length === 0) lines.push('hosts: {}');
  else {
    lines.push('hosts:');
    for (const h of sorted)
      lines.push(`  ${scalar(h.name)}: { address: ${scalar(h.ip)}, groups: [lab], lab: true }`);
  }
  return `${lines.join('\n')}\n`;
}

// Pure counting over logs the bench collects: sshd's "Accepted publickey" lines (one per SSH connection), Ansible's
// -vvv "SSH: EXEC" lines (one per ssh invocation, i.e. one exec channel), orch's --stats JSON, GNU time's output.

/** SSH connections authenticated in a slice of an sshd -e log. */
export function countAcceptedConnections(log: string): number {
  return log.split('\n').filter((l) => /\bAccepted publickey for \S+ from /.test(l)).length;
}

/** Ansible -vvv output: ssh invocations per target port (each proxied host has its own port). */
export function ansibleExecsByPort(output: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of output.split('\n')) {
    if (!/\bSSH: EXEC ssh\b/.test(line)) continue;
    const m = /\bPort=(\d+)\b/.exec(line);
    if (!m) continue;
    const port = Number(m[1]);
    out.set(port, (out.get(port) ?? 0) + 1);
  }
  return out;
}

export interface OrchHostStats {
  host: string;
  connections: number;
  execs: number;
  ok: boolean;
  /** States reported `changed`. */
  changed: number;
}

/** Per-host stats from `orch -o json apply ... --stats` output. */
export function orchStats(json: string): OrchHostStats[] {
  const report = JSON.parse(json) as {
    hosts?: Array<{
      host: string;
      ok?: boolean;
      stats?: { connections?: number; execs?: number };
      states?: Array<{ status?: string }>;
    }>;
  };
  return (report.hosts ?? []).map((h) => ({
    host: h.host,
    connections: h.stats?.connections ?? NaN,
    execs: h.stats?.execs ?? NaN,
    ok: h.ok !== false,
    changed: (h.states ?? []).filter((x) => x.status === 'changed').length,
  }));
}

export interface TimeOutput {
  elapsedS: number;
  userS: number;
  sysS: number;
  maxRssKb: number;
}

/** The last line of GNU time output written with `-f '%e %U %S %M'`. */
export function parseTimeOutput(text: string): TimeOutput | undefined {
  const lines = text.trim().split('\n');
  const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(lines[lines.length - 1]?.trim() ?? '');
  if (!m) return undefined;
  return { elapsedS: Number(m[1]), userS: Number(m[2]), sysS: Number(m[3]), maxRssKb: Number(m[4]) };
}

/** Ansible's PLAY RECAP totals: ok/changed/unreachable/failed summed over hosts. */
export function ansibleRecap(output: string): {
  hosts: number;
  changed: number;
  unreachable: number;
  failed: number;
} {
  const t = { hosts: 0, changed: 0, unreachable: 0, failed: 0 };
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(line);
    if (!m) continue;
    t.hosts++;
    t.changed += Number(m[2]);
    t.unreachable += Number(m[3]);
    t.failed += Number(m[4]);
  }
  return t;
}

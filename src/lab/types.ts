// Shapes of the lab: what the registry records per host and what the API reports.

/** light: namespaces over this machine's own system, one sshd; booted: a Debian image booted with systemd-nspawn. */
export type HostKind = 'light' | 'booted';

/** One lab host as the API reports it. */
export interface LabHost {
  name: string;
  /** First label of the name; names the netns (`orch-<short>`) and the runtime dir. */
  short: string;
  kind: HostKind;
  /** Debian suite of a booted host. */
  os?: string;
  ip: string;
  /** The process the host hangs on: sshd (light) or systemd-nspawn (booted). */
  pid: number;
  /** sshd's pid for a light host; 0 for a booted one (its sshd runs under its own systemd). */
  sshdPid: number;
  alive: boolean;
  /** sshd's stderr (-e) log (light) or the console log (booted), on the controller. */
  logFile: string;
  /** Booted hosts: ms from starting systemd-nspawn until the system ran and sshd answered. */
  bootMs?: number;
}

/** One host as stored in registry.json. */
export interface RegistryHost {
  name: string;
  short: string;
  ip: string;
  sshdPid: number;
  /** The light host's named netns; '' for a booted host (systemd-nspawn makes an unnamed one). */
  netns: string;
  /** Absent on records written before booted hosts existed: light. */
  kind?: HostKind;
  os?: string;
  nspawnPid?: number;
  bootMs?: number;
}

export interface Registry {
  version: 1;
  hosts: RegistryHost[];
}

// Shapes of the lab: what the registry records per host and what the API reports.

/** One lab host as the API reports it. */
export interface LabHost {
  /** Full name, e.g. primary.example.com (also its hostname inside). */
  name: string;
  /** First label of the name; names the netns (`orch-<short>`) and the runtime dir. */
  short: string;
  ip: string;
  sshdPid: number;
  alive: boolean;
  /** sshd's stderr (-e) log, on the controller. */
  logFile: string;
}

/** One host as stored in registry.json. */
export interface RegistryHost {
  name: string;
  short: string;
  ip: string;
  sshdPid: number;
  netns: string;
}

export interface Registry {
  version: 1;
  hosts: RegistryHost[];
}

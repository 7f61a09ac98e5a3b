// Shapes of the inventory: hosts, their connection settings, groups and vars.

export interface BecomeSpec {
  /**
   * sudo or doas; it must not prompt (sudo NOPASSWD, doas.conf `permit nopass`) since orch never handles a
   * password: both run with -n, which fails instead of asking.
   */
  method: 'sudo' | 'doas';
  user: string;
}

export interface HostSpec {
  /** The name users target, e.g. replica.example.com. */
  name: string;
  /** Address to connect to (IP or DNS name). */
  address: string;
  port: number;
  user: string;
  /** Absolute path of a private key file; when absent, ssh-agent (SSH_AUTH_SOCK) is used. */
  identity?: string;
  become?: BecomeSpec;
  groups: string[];
  vars: Record<string, unknown>;
  /** A host of `orch lab`: dialled only while the lab's bridge is up, never over another route. */
  lab?: boolean;
  /** Key files to offer in order (ssh_config IdentityFile), when the inventory names no `identity`. */
  identityFiles?: string[];
  /** ssh_config IdentitiesOnly: offer only the key files, never the agent's other keys. */
  identitiesOnly?: boolean;
  /** Hosts the connection is tunnelled through, first to last (ProxyJump): each dialled from the one before. */
  jumps?: HostSpec[];
  /** ssh_config ConnectTimeout, when orch.yaml sets no connect_timeout. */
  connectTimeoutMs?: number;
  /** Set when ssh_config asks for what orch cannot do (ProxyCommand): connecting fails with this reason. */
  sshUnsupported?: string;
  /** Which connection settings came from ssh_config (for `orch hosts` and error messages). */
  sshConfigFields?: string[];
  /** Where the host was declared, for error messages. */
  source: { file: string; line?: number };
}

export interface Inventory {
  hosts: Map<string, HostSpec>;
  /** group name -> host names */
  groups: Map<string, string[]>;
}

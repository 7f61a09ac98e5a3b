// The lab's public API: real test hosts on this machine (namespaces + overlays + sshd), for tests, bench and demo.
export { labUp, labDown, labStatus, upHost, recreateHost, resolveUpNames } from './lab.js';
export { execInHost } from './exec.js';
export { projectLabFiles } from './export.js';
export { BRIDGE, BRIDGE_IP, KEY_FILE, LAB_DIR } from './paths.js';
export type { LabHost } from './types.js';

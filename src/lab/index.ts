// The lab's public API: real test hosts on this machine, for tests, bench and demo. Light hosts are namespaces
// over this machine's system (namespaces + overlays + sshd); booted hosts are Debian images under systemd-nspawn.
export { labUp, labDown, labStatus, upHost, recreateHost, resolveUpNames } from './lab.js';
export { execInHost } from './exec.js';
export { projectLabFiles } from './export.js';
export { BRIDGE, BRIDGE_IP, KEY_FILE, LAB_DIR } from './paths.js';
export { buildLabImage, removeLabImage } from './images.js';
export { imageCacheDir, listImages } from './image.js';
export { SUITES, parseSuite } from './suites.js';
export type { ImageInfo } from './image.js';
export type { LabHost } from './types.js';

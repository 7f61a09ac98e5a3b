// Who is doing a job: the user recorded on it and the worker name (`<hostname>:<pid>`) that holds its lease.
// Reads the OS identity of this process only.
import os from 'node:os';

/** The name of this process as a job runner: `<hostname>:<pid>`. */
export function workerName(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** The OS user running orch (falls back to $USER when there is no passwd entry). */
export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER || process.env.LOGNAME || `uid${process.getuid?.() ?? '?'}`;
  }
}

// One error tree for orch. Every error a user can see carries a stable code (see errors/codes.ts); the cause is
// kept.
import { codeExit, EXIT, type OrchErrorCode } from './errors/codes.js';

export type { OrchErrorCode } from './errors/codes.js';

export class OrchError extends Error {
  readonly code: OrchErrorCode;
  constructor(code: OrchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Base of the errors that concern reaching or talking to one host. */
export class TransportError extends OrchError {
  readonly host: string;
  constructor(code: OrchErrorCode, host: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.host = host;
  }
}

export class HostUnreachableError extends TransportError {
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super('HOST_UNREACHABLE', host, message, options);
  }
}

export class AuthFailedError extends TransportError {
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super('AUTH_FAILED', host, message, options);
  }
}

export class HostKeyUnknownError extends TransportError {
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super('HOST_KEY_UNKNOWN', host, message, options);
  }
}

export class HostKeyChangedError extends TransportError {
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super('HOST_KEY_CHANGED', host, message, options);
  }
}

export class CommandTimeoutError extends TransportError {
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super('TIMEOUT', host, message, options);
  }
}

/** Where an input error is: the file and line, and for compile errors the state and the host. */
export interface InputWhere {
  file?: string;
  line?: number;
  /** The state's id, when the error concerns one state. */
  state?: string;
  /** The host being compiled. */
  host?: string;
}

/** A problem with a file the user wrote: names the file and, when known, the line. */
export class InputError extends OrchError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly state: string | undefined;
  readonly host: string | undefined;
  constructor(code: OrchErrorCode, message: string, where: InputWhere = {}, options?: { cause?: unknown }) {
    const loc = where.file ? `${where.file}${where.line ? `:${where.line}` : ''}: ` : '';
    super(code, `${loc}${message}`, options);
    this.file = where.file;
    this.line = where.line;
    this.state = where.state;
    this.host = where.host;
  }
}

/**
 * Several input errors found at once (all of one host's compile errors); the code and the location (file, line,
 * state, host) are the first one's, the message is every message, one per line.
 */
export class InputErrors extends InputError {
  readonly errors: readonly InputError[];
  override readonly file: string | undefined;
  override readonly line: number | undefined;
  override readonly state: string | undefined;
  override readonly host: string | undefined;
  constructor(errors: readonly InputError[]) {
    const first = errors[0]!;
    super(first.code, errors.map((e) => e.message).join('\n'), {}, { cause: first });
    this.errors = errors;
    this.file = first.file;
    this.line = first.line;
    this.state = first.state;
    this.host = first.host;
  }
}

/** The single errors in err: the list of an InputErrors, else err itself. */
export function eachError(err: unknown): unknown[] {
  return err instanceof InputErrors ? [...err.errors] : [err];
}

/** Map an error escaping a verb to its exit code (see errors/codes.ts); anything not orch's is an internal error. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof OrchError)) return EXIT.ERROR;
  return codeExit(err.code);
}

/** The message of any thrown value, without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

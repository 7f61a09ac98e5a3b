// One error tree for orch. Every error a user can see carries a stable code; the cause is kept.

export type OrchErrorCode =
  | 'BAD_INPUT'
  | 'YAML_ERROR'
  | 'TEMPLATE_ERROR'
  | 'PILLAR_MISSING_KEY'
  | 'UNKNOWN_TARGET'
  | 'INVENTORY_ERROR'
  | 'STATE_ERROR'
  | 'SECRET_ERROR'
  | 'HOST_UNREACHABLE'
  | 'AUTH_FAILED'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_CHANGED'
  | 'COMMAND_FAILED'
  | 'TIMEOUT'
  | 'LAB_ERROR'
  | 'JOB_STORE_ERROR'
  | 'LOCKED'
  | 'CANCELLED'
  | 'INTERNAL';

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

/** A problem with a file the user wrote: names the file and, when known, the line. */
export class InputError extends OrchError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(
    code: OrchErrorCode,
    message: string,
    where: { file?: string; line?: number } = {},
    options?: { cause?: unknown },
  ) {
    const loc = where.file ? `${where.file}${where.line ? `:${where.line}` : ''}: ` : '';
    super(code, `${loc}${message}`, options);
    this.file = where.file;
    this.line = where.line;
  }
}

/** The message of any thrown value, without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

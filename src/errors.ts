/**
 * The small set of errors overseer throws. Each carries a stable string `code`
 * (what the CLI maps to an exit code and what tests assert on) and, where one
 * exists, the original error as `cause`.
 */
export type ErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_LISTEN'
  | 'ERR_ALREADY_RUNNING'
  | 'ERR_PID_FILE'
  /** The control socket cannot be created (not "already running": that has its own code). */
  | 'ERR_CONTROL'
  /** No master answers on the control socket. */
  | 'ERR_NO_MASTER'
  /** A successor master cannot take over (src/master/succession/). */
  | 'ERR_SUCCESSION'
  | 'ERR_IPC_TIMEOUT'
  | 'ERR_IPC_CLOSED'
  | 'ERR_IPC_REMOTE'
  | 'ERR_IPC_REPLY';

export class OverseerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad user input: the message names the option and the value received. */
export class ConfigError extends OverseerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_OPTION', message, options);
  }
}

/** The master could not bind an address (in use, permission denied, ...). */
export class ListenError extends OverseerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LISTEN', message, options);
  }
}

export type UpgradeFailureReason =
  | 'exited-before-ready'
  | 'ready-timeout'
  | 'activate-failed'
  | 'missing-listeners'
  | 'spawn-failed'
  | 'stopping'
  /** Refused: a self-upgrade runs (the app's upgrades wait for it to end), or this master is replaced or not yet in charge. */
  | 'busy'
  /** The new generation went live, then a worker of it died or hung within `--rollback-window`: the old one serves again. */
  | 'rolled-back'
  /** A bug, e.g. an event listener that threw; the upgrade did not happen. */
  | 'internal-error';

/** Why workers could not be brought into service (src/master/bring-up/bring-up.ts): every upgrade failure but a bug. */
export type BringUpFailureReason = Exclude<UpgradeFailureReason, 'internal-error' | 'rolled-back' | 'busy'>;

/** An IPC request that got no reply in time, or whose channel closed. */
export class IpcError extends OverseerError {}

/** `errno`-style code of a Node system error, if it has one. */
export function systemCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

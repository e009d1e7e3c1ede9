/**
 * The successor's side of a self-upgrade (protocol.ts): a master started by
 * its predecessor with SUCCESSION_ENV and an IPC channel to it.
 *
 * Contract: `takeSuccession` removes SUCCESSION_ENV from `env` whether or not
 * it is valid, and must run before any worker is forked (workers get the
 * master's environment). It says `hello` first, before it checks what it was
 * given, so that a predecessor of another protocol version hears which one
 * this overseer speaks; then it wraps the passed descriptors as systemd's are
 * wrapped (socket-activation.ts), so that they are held, never accepted on.
 */
import { OverseerError } from '../../errors.js';
import { overseerVersion } from '../../version.js';
import { type InheritedSocket, takePassedSockets } from '../systemd/socket-activation.js';
import {
  type CarriedState, type FromSuccessor, SUCCESSION_ENV, SUCCESSION_PROTOCOL, type SuccessionStart, parseSuccessionStart, parseToSuccessor,
} from './protocol.js';

/** The IPC channel to the predecessor (the process object, in a successor). */
export interface PredecessorChannel {
  send?: (message: unknown, handle: undefined, options: undefined, callback: (error: Error | null) => void) => boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  disconnect?: () => void;
}

export interface Successor {
  readonly start: SuccessionStart;
  /** The held listening sockets, to be held as the predecessor held them. */
  readonly sockets: readonly InheritedSocket[];
  send(message: FromSuccessor): void;
  /** The predecessor's `take-over`; rejects if the channel closes first or it sends anything else. */
  readonly takeOver: Promise<CarriedState>;
}

export function takeSuccession(env: NodeJS.ProcessEnv, channel: PredecessorChannel, pid: number): Successor | undefined {
  const text = env[SUCCESSION_ENV];
  delete env[SUCCESSION_ENV];
  if (text === undefined) return undefined;
  if (!channel.send) throw new OverseerError('ERR_SUCCESSION', `${SUCCESSION_ENV} is set, but this process has no channel to a predecessor master; unset it`);
  const raw = channel.send.bind(channel);
  // With a callback, a send on a channel the predecessor closed (it died) is
  // not an 'error' event on the process, which would end this master: what
  // happens then is decided by the 'disconnect' below, or not at all once
  // this master has taken over.
  const send = (message: FromSuccessor) => void raw(message, undefined, undefined, () => {});
  send({ type: 'hello', protocol: SUCCESSION_PROTOCOL, version: overseerVersion(), node: process.version, pid });
  let start: SuccessionStart;
  try {
    start = parseSuccessionStart(text);
  } catch (cause) {
    throw new OverseerError('ERR_SUCCESSION', `cannot take over from the predecessor master: ${(cause as Error).message}`, { cause });
  }
  const sockets = takePassedSockets(start.listeners.map((l) => ({
    fd: l.fd, name: 'predecessor', configured: l.configured, boundByMaster: l.boundByMaster, ...(l.listenIndex === undefined ? {} : { listenIndex: l.listenIndex }),
  })));
  const takeOver = new Promise<CarriedState>((resolve, reject) => {
    channel.on('message', (message) => {
      const parsed = parseToSuccessor(message);
      if (parsed) resolve(parsed.state);
      else reject(new OverseerError('ERR_SUCCESSION', `the predecessor master sent an unknown message: ${JSON.stringify(message).slice(0, 200)}`));
    });
    channel.on('disconnect', () => reject(new OverseerError('ERR_SUCCESSION', `the predecessor master ${start.predecessorPid} went away before the take-over`)));
  });
  takeOver.catch(() => {}); // read by the caller; a late disconnect after the take-over is not an error
  return { start, sockets, send, takeOver };
}

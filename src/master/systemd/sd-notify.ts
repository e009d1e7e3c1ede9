/**
 * sd_notify(3) for a master run by systemd with `Type=notify`:
 * - `READY=1` when the first generation is entirely live (`master.ready`);
 * - `RELOADING=1` + `MONOTONIC_USEC=` when an upgrade starts, and `READY=1`
 *   when it ends, live or rejected (the old generation still serves), which is
 *   what `Type=notify-reload` (systemd ≥ 253) waits for after its signal;
 * - `STOPPING=1` when the master starts to stop, unless a successor master
 *   took over (it sent `MAINPID=` with its own READY=1: `mainPid`);
 * - `STATUS=` lines for `systemctl status`.
 *
 * Node cannot send unix datagrams, so each message is handed to the
 * `systemd-notify` program. By default it waits (BARRIER=1) until the manager
 * has read the message, so the manager still sees the sender alive and can
 * attribute it to the unit. The sender is a child of the master, so the unit
 * needs `NotifyAccess=all` (a root master's child may claim the master's pid,
 * but an unprivileged one sends as itself).
 *
 * Contract: messages are delivered one at a time, in the order of the events;
 * a reload is reported only after the first `READY=1` (an upgrade that
 * replaces a first generation that never became ready ends in `master.ready`);
 * nothing but STATUS follows `STOPPING=1`. `NOTIFY_SOCKET` is removed from
 * `env` so workers (forked with the master's environment) cannot talk to the
 * manager: their READY=1 would be taken for the master's.
 */
import { execFile } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { type ListenAddress, formatAddress } from '../../ipc/address.js';
import type { MasterEvents } from '../events.js';

/** What is read of the Master (which satisfies it). */
export interface NotifySource extends Pick<EventEmitter<MasterEvents>, 'on'> {
  readonly held: { readonly all: readonly { readonly address: ListenAddress }[] };
  readonly currentGeneration: number | undefined;
}

/** Delivers one notification; rejects with the reason (`code: 'ENOENT'` when the program is missing). */
export type NotifySend = (socket: string, lines: readonly string[]) => Promise<void>;

export interface NotifyLog {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SdNotifyOptions {
  /** The master's environment; `NOTIFY_SOCKET` is read and removed. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: NotifyLog;
  readonly send?: NotifySend;
  /** CLOCK_MONOTONIC in microseconds (what MONOTONIC_USEC compares with the manager's clock). */
  readonly monotonicUsec?: () => bigint;
  /**
   * A successor master (src/master/succession/) sends `MAINPID=` with its
   * READY=1, so the manager follows it before its predecessor exits.
   */
  readonly mainPid?: number;
}

export interface SdNotifier {
  /** Whether NOTIFY_SOCKET was set. */
  readonly enabled: boolean;
  /** Resolves when every message queued so far has been handled. */
  idle(): Promise<void>;
}

/** A message may wait this long for the manager before `systemd-notify` is killed. */
const SEND_TIMEOUT_MS = 10_000;

export const systemdNotify: NotifySend = (socket, lines) =>
  new Promise((resolve, reject) => {
    const env = { ...process.env, NOTIFY_SOCKET: socket };
    execFile('systemd-notify', [...lines], { env, timeout: SEND_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const detail = stderr.trim();
      reject(detail ? Object.assign(error, { message: detail }) : error);
    });
  });

/** STATUS= is one line; the manager shows it as given. */
const status = (text: string) => `STATUS=${text.replace(/\s+/g, ' ')}`;

export function attachSdNotify(master: NotifySource, options: SdNotifyOptions): SdNotifier {
  const socket = options.env.NOTIFY_SOCKET;
  delete options.env.NOTIFY_SOCKET;
  if (!socket) return { enabled: false, idle: () => Promise.resolve() };
  const { log, send = systemdNotify, monotonicUsec = () => process.hrtime.bigint() / 1000n } = options;

  let tail = Promise.resolve();
  let unavailable = false;
  const notify = (...lines: string[]) => {
    tail = tail.then(async () => {
      if (unavailable) return;
      try {
        await send(socket, lines);
        log.debug({ event: 'sd-notify.sent', lines }, `told systemd ${lines.join(' ')}`);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const message = error instanceof Error ? error.message : String(error);
        if (code === 'ENOENT') {
          unavailable = true;
          log.warn({ event: 'sd-notify.unavailable', socket }, 'NOTIFY_SOCKET is set but systemd-notify was not found on PATH: systemd will not hear that the master is ready');
        } else {
          log.warn({ event: 'sd-notify.failed', lines, error: message }, `could not tell systemd ${lines.join(' ')}: ${message}`);
        }
      }
    });
  };

  const addresses = () => master.held.all.map((l) => formatAddress(l.address)).join(', ') || 'no address yet';
  const serving = (generation: number, workers: number) =>
    `serving generation ${generation} (${workers} worker${workers === 1 ? '' : 's'}) on ${addresses()}`;
  /**
   * What systemd has been told, in one field: `starting` (no READY=1 yet),
   * `ready`, `reloading` (RELOADING=1 sent, its READY=1 not yet), `stopping`
   * (STOPPING=1 sent; final). starting → ready ⇄ reloading; any → stopping.
   */
  let told: 'starting' | 'ready' | 'reloading' | 'stopping' = 'starting';

  master.on('master.started', () => notify(status(`starting generation 1 on ${addresses()}`)));
  master.on('worker.restart-scheduled', (p) => {
    if (told === 'starting') notify(status(`generation ${p.generation} not ready: worker in slot ${p.slot} failed ${p.failures} time(s), retrying in ${p.delayMs} ms`));
  });
  master.on('master.ready', (p) => {
    if (told === 'stopping') return;
    told = 'ready';
    notify(...(options.mainPid === undefined ? [] : [`MAINPID=${options.mainPid}`]), 'READY=1', status(serving(p.generation, p.pids.length)));
  });
  master.on('upgrade.started', (p) => {
    if (told !== 'ready' && told !== 'reloading') return;
    told = 'reloading';
    notify('RELOADING=1', `MONOTONIC_USEC=${monotonicUsec()}`, status(`upgrading to generation ${p.generation}`));
  });
  master.on('upgrade.succeeded', (p) => {
    if (told !== 'reloading') return; // before the first READY=1, master.ready follows
    told = 'ready';
    notify('READY=1', status(serving(p.generation, p.pids.length)));
  });
  master.on('upgrade.failed', (p) => {
    if (told === 'stopping') return;
    const current = master.currentGeneration;
    const text = `upgrade to generation ${p.generation ?? '?'} failed (${p.reason}); ${told !== 'starting' && current !== undefined ? `serving generation ${current}` : 'no generation ready yet'}`;
    if (told !== 'reloading') return notify(status(text));
    told = 'ready';
    notify('READY=1', status(text));
  });
  master.on('upgrade.rolled-back', (p) => {
    if (told === 'stopping') return;
    notify(status(`upgrade to generation ${p.generation} rolled back (${p.message}); serving generation ${p.current}`));
  });
  master.on('master.stopping', (p) => {
    // The successor told the manager it is the main process now; the unit is not stopping.
    if (p.replacedBy !== undefined) return;
    if (told === 'stopping') return notify(status(`stopping (${p.reason}, at once)`));
    told = 'stopping';
    notify('STOPPING=1', status(`stopping (${p.reason})`));
  });

  return { enabled: true, idle: () => tail };
}

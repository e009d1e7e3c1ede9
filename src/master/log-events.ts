/**
 * Turns the master's typed events into log lines: `event` is the event name,
 * the payload is the rest, and a short human sentence is the message.
 */
import type { Logger } from 'pino';
import { formatAddress } from '../ipc/address.js';
import { describeVia } from './bring-up/not-ready.js';
import type { MasterEvents } from './events.js';
import type { Master } from './master.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
type Describe<K extends keyof MasterEvents> = (payload: MasterEvents[K][0]) => [Level, string];

const DESCRIBE: { [K in keyof MasterEvents]: Describe<K> } = {
  'master.started': (p) => ['info', `master ${p.pid} listening on ${p.listeners.map(formatAddress).join(', ') || '(nothing yet)'}`],
  'master.ready': (p) => ['info', `generation ${p.generation} is serving`],
  'master.stopping': (p) => ['info', `stopping (${p.reason}${p.graceful ? '' : ', at once'})${p.replacedBy === undefined ? '' : ': draining the workers; the sockets stay with the successor'}`],
  'master.stopped': (p) => ['info', `stopped after ${p.durationMs} ms`],
  'listener.bound': (p) => ['info', `listening on ${formatAddress(p.address)} for worker ${p.pid}`],
  'listener.inherited': (p) => ['info', `holding ${formatAddress(p.address)} passed by ${p.from === 'systemd' ? 'systemd' : 'the predecessor master'} as fd ${p.fd} (${p.fdName})${p.serves ? ` for --listen ${formatAddress(p.serves)}` : ''}`],
  'listener.own': (p) => ['info', `worker ${p.pid} listens on ${formatAddress(p.address)} by itself (${describeVia(p.via)}), not on a socket the master holds`],
  'listener.unused': (p) => ['warn', `no worker listens on ${formatAddress(p.address)}; connections to it will wait unanswered`],
  'worker.spawned': (p) => ['info', `worker ${p.pid} spawned (generation ${p.generation})`],
  'worker.ready': (p) => ['info', `worker ${p.pid} ready in ${p.startupMs} ms`],
  'worker.live': (p) => ['info', `worker ${p.pid} accepting connections`],
  'worker.exited': (p) => [
    p.expected ? 'info' : 'warn',
    `worker ${p.pid} exited (${p.signal ? `signal ${p.signal}` : `code ${p.code}`}) while ${p.state}`,
  ],
  'worker.start-failed': (p) => ['warn', `worker ${p.pid ?? '(not spawned)'} failed to start (${p.reason}): ${p.message}`],
  'worker.respawned': (p) => ['warn', `worker ${p.pid} was killed by ${p.signal} while starting (a signal meant for the master reached it before it could ignore it; with systemd, use --kill-whom=main): started worker ${p.replacementPid ?? '(not spawned)'} in its place`],
  'worker.restart-scheduled': (p) => ['warn', `restarting slot ${p.slot} in ${p.delayMs} ms (failure ${p.failures})`],
  'worker.message': (p) => [p.kind === 'invalid' ? 'warn' : 'debug', `${p.kind} message from worker ${p.pid} ignored`],
  'worker.handle-refused': (p) => ['warn', `worker ${p.pid} sent the master a handle (${p.handleType}); closed it unused: the master accepts no connection and keeps no handle it did not ask for`],
  'worker.hung': (p) => ['error', `worker ${p.pid} (generation ${p.generation}) is hung: no heartbeat for ${p.silentMs} ms; bringing up a replacement, then SIGKILL`],
  'worker.recycling': (p) => ['warn', `worker ${p.pid} uses ${mib(p.rssBytes)} MiB, above --max-memory ${mib(p.limitBytes)} MiB: recycling it (replacement first, then a drain)`],
  'worker.recycled': (p) => ['info', `worker ${p.pid} recycled (${p.reason}, ${mib(p.rssBytes)} MiB): its replacement is live and it drains`],
  'upgrade.window': (p) => ['info', `generation ${p.generation} is live; generation ${p.previous} stands by for ${p.windowMs} ms (--rollback-window)`],
  'upgrade.rolled-back': (p) => ['error', `upgrade to generation ${p.generation} rolled back: ${p.message}; generation ${p.current} serves again`],
  'upgrade.started': (p) => ['info', `upgrade to generation ${p.generation} started (${p.trigger})`],
  'upgrade.coalesced': (p) => ['info', `upgrade requested (${p.trigger}) during an upgrade: queued as one follow-up`],
  'upgrade.succeeded': (p) => ['info', `generation ${p.generation} is live after ${p.durationMs} ms`],
  'upgrade.completed': (p) => ['info', `upgrade to generation ${p.generation} complete after ${p.durationMs} ms${p.previous === undefined ? '' : ` (generation ${p.previous} gone)`}`],
  'upgrade.failed': (p) => ['error', `upgrade to generation ${p.generation} failed: ${p.reason}: ${p.message}; the old generation keeps serving`],
  'drain.started': (p) => ['info', `worker ${p.pid} draining (${p.signal ? `${p.signal} sent to the worker; replacing it` : p.reason})`],
  'output.dropped': (p) => [
    'warn',
    `the reader of ${p.stream} fell behind: dropped ${p.masterLines} master log lines and ${p.workerBytes} bytes of worker output`,
  ],
  'drain.finished': (p) => ['info', `worker ${p.pid} drained in ${p.durationMs} ms${p.forced ? ` (forced with ${p.forced})` : ''}`],
  'succession.started': (p) => ['info', `successor master ${p.successorPid} started (overseer ${p.version}, node ${p.node})`],
  'succession.held': (p) => ['info', `successor master ${p.successorPid} has generation ${p.generation} ready; handing over`],
  'succession.handed-over': (p) => ['info', `successor master ${p.successorPid} took over with generation ${p.generation}; draining this master's workers, then exiting`],
  'succession.failed': (p) => ['error', `self-upgrade failed: ${p.reason}: ${p.message}; this master keeps serving`],
  'succession.took-over': (p) => ['info', `took over from master ${p.predecessorPid}: generation ${p.generation} is serving`],
};

export function logMasterEvents(master: Master, logger: Logger): void {
  for (const name of Object.keys(DESCRIBE) as Array<keyof MasterEvents>) {
    const describe = DESCRIBE[name] as Describe<typeof name>;
    (master.on as (event: string, listener: (payload: object) => void) => Master)(name, (payload) => {
      const [level, message] = describe(payload as never);
      logger[level]({ event: name, ...payload }, message);
    });
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(1);
}

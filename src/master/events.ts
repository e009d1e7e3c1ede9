/**
 * The facts the master reports, as one typed event map. The logger, the CLI
 * and the tests all listen to these; each event name is also the `event`
 * field of its log line.
 */
import type { BringUpFailureReason } from '../errors.js';
import type { ListenAddress } from '../ipc/address.js';
import type { SelfUpgradeFailureReason, UpgradeOutcome, UpgradePhases } from '../ipc/control.js';
import type { OwnListenVia } from '../ipc/to-master.js';
import type { WorkerState } from './workers/worker-state.js';

export interface WorkerFacts {
  readonly workerId: number;
  readonly generation: number;
  readonly slot: number;
  readonly pid: number | undefined;
}

/** An upgrade's outcome: what the log events carry and what `overseer upgrade` receives. */
export type UpgradeResult = UpgradeOutcome;

export interface MasterEvents {
  'master.started': [{ pid: number; listeners: ListenAddress[] }];
  /** The first generation is entirely live. */
  'master.ready': [{ generation: number; pids: (number | undefined)[] }];
  /** `replacedBy`: the successor master that took over (`overseer upgrade --self`); this one only drains its workers. */
  'master.stopping': [{ reason: string; graceful: boolean; replacedBy?: number }];
  'master.stopped': [{ durationMs: number }];
  'listener.bound': [WorkerFacts & { address: ListenAddress }];
  'listener.unused': [{ address: ListenAddress }];
  /** A worker listens on an address by itself (port 0, a handle, an fd): not held by the master, not kept across upgrades. */
  'listener.own': [WorkerFacts & { address: ListenAddress; via: OwnListenVia }];
  /**
   * A socket systemd (or a predecessor master: `overseer upgrade --self`) passed in is held; `fdName`: its
   * FileDescriptorName=; `serves`: the `--listen` address it stands for (none: held as passed). (Not `name`,
   * which is the logger's.)
   */
  'listener.inherited': [{ address: ListenAddress; from: 'systemd' | 'predecessor'; fd: number; fdName: string; serves?: ListenAddress }];
  'worker.spawned': [WorkerFacts & { script: string; cwd: string }];
  'worker.ready': [WorkerFacts & { startupMs: number }];
  'worker.live': [WorkerFacts];
  'worker.exited': [
    WorkerFacts & { code: number | null; signal: string | null; state: WorkerState; expected: boolean; uptimeMs: number },
  ];
  /** `reason`: a code, as `upgrade.failed`'s; `message`: the sentence. */
  'worker.start-failed': [WorkerFacts & { reason: BringUpFailureReason; message: string; code?: number | null; signal?: string | null }];
  /** A starting worker was killed by `signal`, meant for the master (SIGHUP, SIGUSR2), before it could ignore it; `replacementPid` was spawned for its slot (bring-up.ts). */
  'worker.respawned': [WorkerFacts & { signal: string; replacementPid: number | undefined }];
  'worker.restart-scheduled': [{ generation: number; slot: number; delayMs: number; failures: number }];
  'worker.message': [WorkerFacts & { kind: 'invalid' | 'foreign'; value: unknown }];
  /** The worker sent the master a handle (`handleType`: Node's name for it); the master closed it unused. */
  'worker.handle-refused': [WorkerFacts & { handleType: string }];
  /** A live worker sent no heartbeat for `silentMs` (>= `--hang-timeout`): a replacement is brought up, then it is SIGKILLed (health/healer.ts). */
  'worker.hung': [WorkerFacts & { reason: 'hang'; silentMs: number }];
  /** A live worker stayed above `--max-memory`; its recycle starts now (one at a time): a replacement, then a drain. */
  'worker.recycling': [WorkerFacts & { reason: 'memory'; rssBytes: number; limitBytes: number }];
  /** Its replacement is live and the worker drains. */
  'worker.recycled': [WorkerFacts & { reason: 'memory'; rssBytes: number; limitBytes: number }];
  'upgrade.started': [{ generation: number; trigger: string }];
  'upgrade.coalesced': [{ trigger: string }];
  /** The new generation is live (the old one starts draining now); `phases`: generations/phases.ts. */
  'upgrade.succeeded': [{ generation: number; previous: number | undefined; pids: (number | undefined)[]; durationMs: number; phases?: UpgradePhases }];
  /**
   * After `upgrade.succeeded`, once every worker of the old generation has
   * exited: `durationMs` from the trigger to the old generation gone (the
   * last phase, "drained"), beside the others (docs/upgrade.md).
   */
  'upgrade.completed': [{ generation: number; previous: number | undefined; durationMs: number; phases?: UpgradePhases }];
  'upgrade.failed': [Extract<UpgradeResult, { ok: false }>];
  /** `--rollback-window`: the new generation is live; the old one stands by for `windowMs`. */
  'upgrade.window': [{ generation: number; previous: number; windowMs: number }];
  /** A worker of `generation` died or hung within the window: `current` (the old generation) serves again, `generation` is drained. */
  'upgrade.rolled-back': [{ generation: number; current: number; message: string }];
  /** `reason`: 'upgrade', 'stop', or 'signal' (the worker was sent `signal` directly and drains on its own). */
  'drain.started': [WorkerFacts & { reason: string; signal?: string }];
  'drain.finished': [WorkerFacts & { durationMs: number; forced: string | undefined; code: number | null; signal: string | null }];
  /** The reader of the master's stdout or stderr stalled or went away, and output was dropped (outlet.ts); reported once it drains. */
  'output.dropped': [{ stream: 'stdout' | 'stderr'; masterLines: number; workerBytes: number }];
  /** `overseer upgrade --self` (src/master/succession/), in the predecessor: the successor master said hello. */
  'succession.started': [{ successorPid: number; version: string; node: string }];
  /** The successor's first generation is ready, held back (it has accepted nothing); it is told to take over. */
  'succession.held': [{ successorPid: number; generation: number }];
  /** The successor took over: it holds the control socket and the PID file and its workers accept; this master drains and exits. */
  'succession.handed-over': [{ successorPid: number; generation: number }];
  /** The self-upgrade failed; this master goes on serving (the successor, if one started, was stopped). */
  'succession.failed': [{ reason: SelfUpgradeFailureReason; message: string; successorPid?: number }];
  /** In the successor: it took over from `predecessorPid`, serving `generation`. */
  'succession.took-over': [{ predecessorPid: number; generation: number }];
}

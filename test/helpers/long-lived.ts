/**
 * Clients for long-lived connections to test/fixtures/long-lived-app.cjs: a
 * WebSocket (its first message names the version; every text is echoed back
 * as `<version>:<text>`) and a server-sent events stream (`hello` names the
 * version, then a `tick` every 50 ms). Each records when and how it ended.
 * Every wait has a deadline; nothing rejects unhandled.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { onCleanup } from './processes.js';

const DEADLINE_MS = 10_000;

export interface Ended {
  /** Date.now() when the connection ended. */
  readonly at: number;
  /** WebSocket close code (1006: the connection dropped without a close frame). */
  readonly code?: number;
  readonly reason?: string;
  /** SSE: the response ended cleanly (false: cut mid-stream). */
  readonly complete?: boolean;
}

/** `promise`, or a rejection saying `<what> within <ms> ms` once `ms` have passed. */
export function deadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

export interface WsClient {
  readonly version: string;
  readonly pid: number;
  readonly isOpen: () => boolean;
  /** Sends `text`, resolves with the echo. */
  echo(text: string): Promise<string>;
  /** Resolves when the connection has closed. */
  readonly ended: Promise<Ended>;
  /** Set once closed. */
  endedAt(): Ended | undefined;
}

export async function openWs(url: string): Promise<WsClient> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'));
  onCleanup(() => ws.terminate());
  const inbox: string[] = [];
  const waiting: Array<(m: string) => void> = [];
  ws.on('message', (data) => {
    const text = String(data);
    const next = waiting.shift();
    if (next) next(text);
    else inbox.push(text);
  });
  let end: Ended | undefined;
  const ended = new Promise<Ended>((resolve) => {
    ws.once('close', (code, reason) => {
      end = { at: Date.now(), code, reason: String(reason) };
      resolve(end);
    });
  });
  ws.on('error', () => {}); // 'close' follows and says how it ended
  const next = () =>
    deadline(new Promise<string>((resolve) => {
      const queued = inbox.shift();
      if (queued !== undefined) resolve(queued);
      else waiting.push(resolve);
    }), 'no WebSocket message');
  const hello = JSON.parse(await next()) as { version: string; pid: number };
  return {
    version: hello.version,
    pid: hello.pid,
    isOpen: () => ws.readyState === WebSocket.OPEN,
    async echo(text) {
      ws.send(text);
      return next();
    },
    ended,
    endedAt: () => end,
  };
}

export interface SseClient {
  readonly version: string;
  readonly pid: number;
  readonly isOpen: () => boolean;
  /** Resolves with the next `tick` that arrives after this call. */
  nextTick(): Promise<number>;
  /** Every event received, in order (`hello`, `tick`, `bye`). */
  readonly events: Array<{ event: string; data: string }>;
  readonly ended: Promise<Ended>;
  endedAt(): Ended | undefined;
}

/** A plain SSE GET on its own connection (no agent, no keep-alive). */
export async function openSse(url: string): Promise<SseClient> {
  const events: Array<{ event: string; data: string }> = [];
  const onEvent = new Set<() => void>();
  let end: Ended | undefined;
  let resolveEnded!: (e: Ended) => void;
  const ended = new Promise<Ended>((resolve) => (resolveEnded = resolve));
  const req = http.get(url, { agent: false });
  onCleanup(() => req.destroy());
  const res = await deadline(new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  }), 'no SSE response');
  req.on('error', () => {});
  res.on('error', () => {}); // 'aborted' when cut; 'close' follows
  res.setEncoding('utf8');
  let buffer = '';
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let split: number;
    while ((split = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      events.push({ event, data });
      for (const fn of [...onEvent]) fn();
    }
  });
  res.once('close', () => {
    end = { at: Date.now(), complete: res.complete };
    resolveEnded(end);
  });
  const firstOf = (name: string, from: number) =>
    deadline(new Promise<string>((resolve) => {
      const check = () => {
        const found = events.slice(from).find((e) => e.event === name);
        if (!found) return;
        onEvent.delete(check);
        resolve(found.data);
      };
      onEvent.add(check);
      check();
    }), `no SSE '${name}' event`);
  const hello = JSON.parse(await firstOf('hello', 0)) as { version: string; pid: number };
  return {
    version: hello.version,
    pid: hello.pid,
    isOpen: () => end === undefined,
    async nextTick() {
      return Number(await firstOf('tick', events.length));
    },
    events,
    ended,
    endedAt: () => end,
  };
}

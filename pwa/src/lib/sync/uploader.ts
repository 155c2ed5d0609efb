/**
 * The uploader: one sequential, single-flight loop that sends the outbox oldest first in batches.
 * - It asks the server whether it is reachable (`probe`) instead of trusting `navigator.onLine`.
 * - A batch without an answer (network error, 5xx, 429) is retried with exponential backoff and
 *   jitter; the records stay pending and nothing is sent twice in parallel.
 * - Each record's answer is applied on its own: `applied`/`duplicate` leave the outbox,
 *   `rejected`/`conflict` are set aside with their reason and never block the others.
 * - When the session is gone (`LoginRequired`) it pauses until the volunteer signs in again.
 * Background Sync and the `online` event only wake it up (`kick`).
 */
import { writable, type Readable } from 'svelte/store';
import type { Outbox, Settled } from '../store/outbox';
import type { OutboxEntry } from '../store/db';
import { LoginRequired } from '../session';

export type Phase = 'idle' | 'syncing' | 'offline' | 'retrying' | 'needs_login';

export interface SyncState {
  phase: Phase;
  pending: number;
  rejected: number;
  /** Milliseconds since the epoch of the last run that emptied the pending outbox. */
  lastSyncAt: number | null;
  /** When the next automatic try happens (`retrying`, `offline`). */
  nextAttemptAt: number | null;
  /** Why the last batch got no answer, for the status line. */
  lastFailure: string | null;
}

export interface PushAnswer {
  results: { id: string; status: Settled['status']; error?: Settled['error'] }[];
}

export interface UploaderDeps {
  outbox: Outbox;
  owner: () => string | null;
  deviceId: () => Promise<string>;
  /** Sends one batch; throws on a network error or a non-2xx answer (with `status`). */
  push: (body: {
    device_id: string;
    records: { kind: string; id: string; op: string; base_version?: number | null; data: unknown }[];
  }) => Promise<PushAnswer>;
  probe: () => Promise<boolean>;
  /** After a run that sent everything: pull the village's changes. */
  afterSync?: () => Promise<void>;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  random?: () => number;
  batchSize?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onLastSync?: (at: number) => void;
}

export const BATCH_SIZE = 100;

export class Uploader {
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private timer: unknown = null;
  private readonly state$ = writable<SyncState>({
    phase: 'idle',
    pending: 0,
    rejected: 0,
    lastSyncAt: null,
    nextAttemptAt: null,
    lastFailure: null,
  });
  private readonly now: () => number;

  constructor(private readonly deps: UploaderDeps) {
    this.now = deps.now ?? Date.now;
  }

  get state(): Readable<SyncState> {
    return this.state$;
  }

  private patch(p: Partial<SyncState>): void {
    this.state$.update((s) => ({ ...s, ...p }));
  }

  async refreshCounts(): Promise<void> {
    const owner = this.deps.owner();
    if (!owner) return;
    this.patch(await this.deps.outbox.counts(owner));
  }

  /** Starts a run unless one is going; a kick during a run makes it go round once more. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.clearTimer();
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** The last successful sync of an earlier start of the app. */
  restoreLastSync(at: number): void {
    if (!this.current().lastSyncAt) this.patch({ lastSyncAt: at });
  }

  /** After a new sign-in. */
  resume(): Promise<void> {
    this.failures = 0;
    this.patch({ phase: 'idle', lastFailure: null });
    return this.kick();
  }

  stop(): void {
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer !== null) (this.deps.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
  }

  private schedule(phase: Phase, reason: string): void {
    const base = this.deps.baseDelayMs ?? 2_000;
    const max = this.deps.maxDelayMs ?? 5 * 60_000;
    const exp = Math.min(max, base * 2 ** Math.min(this.failures, 20));
    // Full jitter between half and all of the delay, so phones that lost the same tower do not
    // come back in step.
    const delay = Math.round(exp / 2 + ((this.deps.random ?? Math.random)() * exp) / 2);
    this.failures++;
    this.patch({ phase, nextAttemptAt: this.now() + delay, lastFailure: reason });
    this.timer = (this.deps.setTimer ?? setTimeout)(() => {
      this.timer = null;
      void this.kick();
    }, delay);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.once();
    } while (this.again && this.current().phase === 'idle');
  }

  private current(): SyncState {
    let s!: SyncState;
    this.state$.subscribe((v) => (s = v))();
    return s;
  }

  private async once(): Promise<void> {
    const owner = this.deps.owner();
    if (!owner) return;
    if (this.current().phase === 'needs_login') return;
    await this.refreshCounts();
    this.patch({ phase: 'syncing', nextAttemptAt: null });
    if (!(await this.deps.probe())) {
      this.schedule('offline', 'unreachable');
      return;
    }
    const size = this.deps.batchSize ?? BATCH_SIZE;
    for (;;) {
      const batch = await this.deps.outbox.nextBatch(owner, size);
      if (batch.length === 0) break;
      let answer: PushAnswer;
      try {
        answer = await this.deps.push({ device_id: await this.deps.deviceId(), records: batch.map(wire) });
      } catch (error) {
        if (error instanceof LoginRequired) {
          this.patch({ phase: 'needs_login', nextAttemptAt: null, lastFailure: 'login_required' });
          return;
        }
        const status = (error as { status?: number }).status;
        const reason = status ? `http_${status}` : 'network';
        await this.deps.outbox.countAttempt(
          batch.map((e) => e.id),
          { code: reason, message: String((error as Error).message ?? error) },
        );
        this.schedule('retrying', reason);
        await this.refreshCounts();
        return;
      }
      const answered = new Set(answer.results.map((r) => r.id));
      await this.deps.outbox.settle(answer.results.filter((r) => batch.some((e) => e.id === r.id)));
      this.failures = 0;
      await this.refreshCounts();
      if (!batch.some((e) => answered.has(e.id))) {
        // An answer that settles nothing would loop for ever: back off instead.
        this.schedule('retrying', 'no_results');
        return;
      }
    }
    try {
      await this.deps.afterSync?.();
    } catch (error) {
      if (error instanceof LoginRequired) {
        this.patch({ phase: 'needs_login', nextAttemptAt: null, lastFailure: 'login_required' });
        return;
      }
      const status = (error as { status?: number }).status;
      this.schedule('retrying', status ? `http_${status}` : 'network');
      return;
    }
    const at = this.now();
    this.deps.onLastSync?.(at);
    this.patch({ phase: 'idle', lastSyncAt: at, nextAttemptAt: null, lastFailure: null });
  }
}

function wire(e: OutboxEntry) {
  return {
    kind: e.kind,
    id: e.id,
    op: e.op,
    ...(e.base_version != null ? { base_version: e.base_version } : {}),
    data: e.data,
  };
}

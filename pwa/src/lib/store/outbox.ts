/**
 * The outbox: records made on this phone until the server has them. An entry leaves only when the
 * server answered `applied` or `duplicate` for its id; a refused one (`rejected`, `conflict`) is kept
 * aside with the reason, can be edited and sent again, and never holds back the others.
 */
import type { FieldDb, OutboxEntry, RecordErrorInfo, RecordKind } from './db';

export interface NewRecord {
  kind: RecordKind;
  op?: OutboxEntry['op'];
  id?: string;
  base_version?: number | null;
  data: Record<string, unknown>;
}

export interface Settled {
  id: string;
  status: 'applied' | 'duplicate' | 'conflict' | 'rejected';
  error?: RecordErrorInfo | null;
}

export class Outbox {
  constructor(
    private readonly db: FieldDb,
    private readonly now: () => number = Date.now,
  ) {}

  /** Saves a record; resolves once IndexedDB committed it (strict durability). */
  async add(owner: string, record: NewRecord): Promise<OutboxEntry> {
    const entry: OutboxEntry = {
      id: record.id ?? crypto.randomUUID(),
      kind: record.kind,
      op: record.op ?? 'create',
      base_version: record.base_version ?? null,
      data: record.data,
      createdAt: this.now(),
      status: 'pending',
      attempts: 0,
      lastError: null,
      owner,
    };
    await this.db.outbox.add(entry);
    return entry;
  }

  /** The oldest pending records of an account, at most `limit`. */
  async nextBatch(owner: string, limit: number): Promise<OutboxEntry[]> {
    return this.db.outbox
      .orderBy('createdAt')
      .filter((e) => e.status === 'pending' && e.owner === owner)
      .limit(limit)
      .toArray();
  }

  /** Applies the server's answers in one transaction. Ids the server did not answer stay pending. */
  async settle(results: Settled[]): Promise<void> {
    await this.db.transaction('rw', this.db.outbox, async () => {
      for (const r of results) {
        if (r.status === 'applied' || r.status === 'duplicate') {
          await this.db.outbox.delete(r.id);
        } else {
          await this.db.outbox.update(r.id, {
            status: 'rejected',
            lastError: {
              code: r.error?.code ?? r.status,
              message: r.error?.message ?? r.status,
              status: r.status,
              fields: r.error?.fields,
            },
          });
        }
      }
    });
  }

  /** One more failed attempt for records whose batch did not get an answer. */
  async countAttempt(ids: string[], error: RecordErrorInfo): Promise<void> {
    await this.db.transaction('rw', this.db.outbox, async () => {
      for (const id of ids) {
        const e = await this.db.outbox.get(id);
        if (e) await this.db.outbox.update(id, { attempts: e.attempts + 1, lastError: error });
      }
    });
  }

  /** A refused record, edited (or not) by the volunteer, goes back in line. */
  async retry(id: string, data?: Record<string, unknown>): Promise<void> {
    await this.db.outbox.update(id, {
      status: 'pending',
      lastError: null,
      ...(data ? { data } : {}),
    });
  }

  /** A refused record the volunteer chose to drop: it leaves the phone and is never sent. */
  async discard(id: string): Promise<void> {
    await this.db.transaction('rw', this.db.outbox, async () => {
      const e = await this.db.outbox.get(id);
      if (e?.status === 'rejected') await this.db.outbox.delete(id);
    });
  }

  async counts(owner: string): Promise<{ pending: number; rejected: number }> {
    const all = await this.db.outbox.where('owner').equals(owner).toArray();
    return {
      pending: all.filter((e) => e.status === 'pending').length,
      rejected: all.filter((e) => e.status === 'rejected').length,
    };
  }

  async list(owner: string): Promise<OutboxEntry[]> {
    const all = await this.db.outbox.where('owner').equals(owner).toArray();
    return all.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Everything still on the phone, for the "export stuck records" file. */
  async exportAll(): Promise<OutboxEntry[]> {
    return this.db.outbox.orderBy('createdAt').toArray();
  }
}

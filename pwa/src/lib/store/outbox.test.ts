import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FieldDb } from './db';
import { Outbox } from './outbox';

let db: FieldDb;
let clock = 1_000;

beforeEach(() => {
  db = new FieldDb(`test-${Math.random()}`);
  clock = 1_000;
});
afterEach(async () => {
  await db.delete();
});

const visit = (household_id: string) => ({ kind: 'assistance_record' as const, data: { household_id } });

describe('outbox', () => {
  it('keeps records across a reopen of the database', async () => {
    const box = new Outbox(db, () => clock++);
    const a = await box.add('u1', visit('h1'));
    db.close();
    const again = new FieldDb(db.name);
    await again.open();
    expect((await again.outbox.get(a.id))?.data).toEqual({ household_id: 'h1' });
    again.close();
    await db.open();
  });

  it('hands out the oldest pending records of the account, at most the batch size', async () => {
    const box = new Outbox(db, () => clock++);
    const a = await box.add('u1', visit('h1'));
    await box.add('u2', visit('h2'));
    const c = await box.add('u1', visit('h3'));
    const d = await box.add('u1', visit('h4'));
    expect((await box.nextBatch('u1', 2)).map((e) => e.id)).toEqual([a.id, c.id]);
    expect((await box.nextBatch('u1', 10)).map((e) => e.id)).toEqual([a.id, c.id, d.id]);
  });

  it('removes a record only when the server applied it or already had it', async () => {
    const box = new Outbox(db, () => clock++);
    const [a, b, c, d] = await Promise.all(['h1', 'h2', 'h3', 'h4'].map((h) => box.add('u1', visit(h))));
    await box.settle([
      { id: a.id, status: 'applied' },
      { id: b.id, status: 'duplicate' },
      { id: c.id, status: 'rejected', error: { code: 'household_not_found', message: 'No such household.' } },
      { id: d.id, status: 'conflict', error: { code: 'id_reused', message: 'reused' } },
    ]);
    const left = await box.list('u1');
    expect(new Map(left.map((e) => [e.id, [e.status, e.lastError?.code]]))).toEqual(
      new Map([
        [c.id, ['rejected', 'household_not_found']],
        [d.id, ['rejected', 'id_reused']],
      ]),
    );
    expect(await box.counts('u1')).toEqual({ pending: 0, rejected: 2 });
    // A set-aside record is not sent again until the volunteer says so.
    expect(await box.nextBatch('u1', 10)).toEqual([]);
    await box.retry(c.id, { household_id: 'h9' });
    const again = await box.nextBatch('u1', 10);
    expect(again.map((e) => [e.id, e.data.household_id, e.lastError])).toEqual([[c.id, 'h9', null]]);
  });

  it('counts failed attempts without losing the record', async () => {
    const box = new Outbox(db, () => clock++);
    const a = await box.add('u1', visit('h1'));
    await box.countAttempt([a.id], { code: 'network', message: 'Failed to fetch' });
    await box.countAttempt([a.id], { code: 'http_500', message: 'HTTP 500' });
    const e = await db.outbox.get(a.id);
    expect([e?.status, e?.attempts, e?.lastError?.code]).toEqual(['pending', 2, 'http_500']);
  });

  it('refuses a second record with the same id instead of overwriting the first', async () => {
    const box = new Outbox(db, () => clock++);
    await box.add('u1', { ...visit('h1'), id: 'same' });
    await expect(box.add('u1', { ...visit('h2'), id: 'same' })).rejects.toThrow();
    expect((await db.outbox.get('same'))?.data.household_id).toBe('h1');
  });

  it('keeps the outbox when pulled data is cleared', async () => {
    const box = new Outbox(db, () => clock++);
    await box.add('u1', visit('h1'));
    await db.households.put({ id: 'h1', village_id: 'v1', search: '' });
    await db.clearPulled();
    expect(await db.households.count()).toBe(0);
    expect(await db.outbox.count()).toBe(1);
  });
});

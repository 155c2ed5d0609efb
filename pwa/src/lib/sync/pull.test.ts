import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FieldDb } from '../store/db';
import { pullAll, type PullPage } from './pull';

let db: FieldDb;
beforeEach(() => {
  db = new FieldDb(`pull-${Math.random()}`);
});
afterEach(async () => {
  await db.delete();
});

describe('pull', () => {
  it('stores each page with its cursor and resumes from the last one', async () => {
    const pages: PullPage[] = [
      {
        changes: [
          { kind: 'household', id: 'h1', op: 'upsert', version: 1, data: { village_id: 'v1', head_name: 'Nguyễn Văn Đức', house_number: '12' } },
          { kind: 'resident', id: 'r1', op: 'upsert', version: 1, data: { household_id: 'h1', full_name: 'Trần Thị Hường', birth_year: 1950 } },
        ],
        cursor: 'c1',
        has_more: true,
      },
      {
        changes: [
          { kind: 'service', id: 's1', op: 'upsert', data: { code: 'vneid_level2', name_vi: 'VNeID mức 2', name_en: 'VNeID level 2', level: 'person', min_age: 14 } },
          { kind: 'resident', id: 'r1', op: 'delete' },
          { kind: 'something_new', id: 'x', op: 'upsert', data: {} },
        ],
        cursor: 'c2',
        has_more: false,
      },
    ];
    const asked: (string | undefined)[] = [];
    const n = await pullAll(db, async (q) => {
      asked.push(q.cursor);
      return pages[asked.length - 1];
    });
    expect(n).toBe(5);
    expect(asked).toEqual([undefined, 'c1']);
    expect(await db.getMeta('pull_cursor')).toBe('c2');
    const h = await db.households.get('h1');
    expect([h?.head_name, h?.search, h?.version]).toEqual(['Nguyễn Văn Đức', 'nguyen van duc 12', 1]);
    expect(await db.residents.count()).toBe(0);
    expect((await db.services.get('s1'))?.code).toBe('vneid_level2');
  });

  it('keeps the cursor of the last stored page when a later page fails', async () => {
    let call = 0;
    await expect(
      pullAll(db, async () => {
        if (call++ === 0) return { changes: [{ kind: 'household', id: 'h1', op: 'upsert', data: { village_id: 'v1' } }], cursor: 'c1', has_more: true };
        throw new TypeError('Failed to fetch');
      }),
    ).rejects.toThrow('Failed to fetch');
    expect(await db.getMeta('pull_cursor')).toBe('c1');
    expect(await db.households.count()).toBe(1);
  });

  it('drops the old scope in the same step that stores the new one, and keeps the outbox', async () => {
    await db.households.bulkPut([
      { id: 'old1', village_id: 'v1', search: '' },
      { id: 'old2', village_id: 'v1', search: '' },
    ]);
    await db.residents.put({ id: 'r-old', household_id: 'old1', search: '' });
    await db.adoptions.put({ id: 'a-old', household_id: 'old1', service_code: 'vneid_level2', status: 'done' });
    await db.outbox.put({ id: 'o1', kind: 'assistance_record', op: 'create', data: { household_id: 'old1' }, createdAt: 1, status: 'pending', attempts: 0, owner: 'u1' });
    await db.setMeta('pull_cursor', 'c-old');
    let resets = 0;
    const n = await pullAll(
      db,
      async (q) => {
        expect(q.cursor).toBe('c-old');
        return {
          changes: [{ kind: 'household', id: 'new1', op: 'upsert', version: 1, data: { village_id: 'v2', head_name: 'Lê Văn Cường' } }],
          cursor: 'c-new',
          has_more: false,
          reset: true,
        };
      },
      { onReset: async () => (resets++, true) },
    );
    expect([n, resets]).toEqual([1, 1]);
    expect((await db.households.toArray()).map((h) => h.id)).toEqual(['new1']);
    expect(await db.residents.count()).toBe(0);
    expect(await db.adoptions.count()).toBe(0);
    expect(await db.outbox.count()).toBe(1);
    expect(await db.getMeta('pull_cursor')).toBe('c-new');
  });

  it('keeps nothing pulled when the account left the field roles', async () => {
    await db.households.put({ id: 'old1', village_id: 'v1', search: '' });
    await db.setMeta('pull_cursor', 'c-old');
    const n = await pullAll(
      db,
      async () => ({ changes: [{ kind: 'household', id: 'c1', op: 'upsert', data: { village_id: 'v9' } }], cursor: 'c2', has_more: false, reset: true }),
      { onReset: async () => false },
    );
    expect(n).toBe(0);
    expect(await db.households.count()).toBe(0);
    expect(await db.getMeta('pull_cursor')).toBeUndefined();
  });
});

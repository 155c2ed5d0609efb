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
});

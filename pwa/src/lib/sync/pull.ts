/**
 * Pull: the changes in this account's scope since the last cursor, stored in the phone's database.
 * Each page and its cursor are written in one transaction, so an interrupted pull resumes where
 * it stopped and never skips a page.
 */
import type { FieldDb, Household, Resident } from '../store/db';
import { normalise } from '../text';

export interface Change {
  kind: string;
  id: string;
  op: string;
  version?: number | null;
  data?: Record<string, unknown> | null;
}

export interface PullPage {
  changes: Change[];
  cursor: string;
  has_more: boolean;
  /**
   * The account's scope changed since the cursor was given (another village, a new role): the
   * changes start again from the beginning, and everything pulled before must go first.
   */
  reset?: boolean;
}

export interface PullHooks {
  now?: () => number;
  /**
   * Called when the server answers `reset`, before anything is dropped or stored. Resolves to
   * false when this phone should keep nothing pulled any more (the account left the field roles):
   * the pulled data is then cleared and the pull stops.
   */
  onReset?: () => Promise<boolean>;
}

/** The stores a pull fills; a reset empties them all (never the outbox). */
function pulledStores(db: FieldDb) {
  return [db.households, db.residents, db.adoptions, db.services, db.records, db.materials] as const;
}

export type PullFn = (query: { cursor?: string; limit?: number }) => Promise<PullPage>;

export const PULL_LIMIT = 500;

function householdSearch(d: Record<string, unknown>): string {
  return normalise([d.head_name, d.house_number, d.lane, d.hamlet, d.phone].filter(Boolean).join(' '));
}

export async function applyChanges(db: FieldDb, changes: Change[]): Promise<void> {
  for (const c of changes) {
    const d = c.data ?? {};
    const del = c.op === 'delete' || !c.data;
    switch (c.kind) {
      case 'household':
        if (del) await db.households.delete(c.id);
        else
          await db.households.put({
            ...(d as Partial<Household>),
            id: c.id,
            village_id: String(d.village_id ?? ''),
            version: c.version ?? null,
            search: householdSearch(d),
          });
        break;
      case 'resident':
        if (del) await db.residents.delete(c.id);
        else
          await db.residents.put({
            ...(d as Partial<Resident>),
            id: c.id,
            household_id: String(d.household_id ?? ''),
            version: c.version ?? null,
            search: normalise(String(d.full_name ?? '')),
          });
        break;
      case 'adoption':
        if (del) await db.adoptions.delete(c.id);
        else
          await db.adoptions.put({
            id: c.id,
            household_id: String(d.household_id ?? ''),
            resident_id: (d.resident_id as string | null) ?? null,
            service_code: String(d.service_code ?? ''),
            status: String(d.status ?? 'unknown'),
            status_on: (d.status_on as string | null) ?? null,
            source: (d.source as string | null) ?? null,
          });
        break;
      case 'service':
        if (del) await db.services.delete(c.id);
        else
          await db.services.put({
            id: c.id,
            code: String(d.code),
            name_vi: String(d.name_vi ?? d.code),
            name_en: String(d.name_en ?? d.code),
            department: (d.department as string | null) ?? null,
            level: String(d.level ?? 'person'),
            min_age: (d.min_age as number | null) ?? null,
            sort_order: (d.sort_order as number | null) ?? null,
            retired: Boolean(d.retired),
          });
        break;
      case 'assistance_record':
      case 'communication':
      case 'difficulty':
        if (del) await db.records.delete(c.id);
        else
          await db.records.put({
            id: c.id,
            kind: c.kind,
            household_id: (d.household_id as string | null) ?? null,
            data: d,
          });
        break;
      case 'material':
        if (del) await db.materials.delete(c.id);
        else
          await db.materials.put({
            id: c.id,
            department: (d.department as string | null) ?? null,
            version: d.version as number,
            title: String(d.title ?? ''),
            summary: (d.summary as string | null) ?? null,
            body: (d.body as string | null) ?? null,
            service_codes: (d.service_codes as string[]) ?? [],
            published_at: (d.published_at as string | null) ?? null,
          });
        break;
      default:
        // A kind this version of the app does not know yet: skip it, a later version will pull again.
        break;
    }
  }
}

/**
 * Pulls until the server has nothing more. Returns the number of changes stored. A page that says
 * `reset` replaces what the phone held: the old scope's households, residents, ledger, records,
 * guides and catalogue are dropped in the same transaction that stores the new scope's first page,
 * so the phone never shows a mix of both.
 */
export async function pullAll(db: FieldDb, pull: PullFn, hooks: PullHooks = {}): Promise<number> {
  const now = hooks.now ?? Date.now;
  let total = 0;
  for (;;) {
    const cursor = await db.getMeta<string>('pull_cursor');
    const page = await pull({ ...(cursor ? { cursor } : {}), limit: PULL_LIMIT });
    if (page.reset && hooks.onReset && !(await hooks.onReset())) {
      await db.clearPulled();
      return total;
    }
    await db.transaction(
      'rw',
      [...pulledStores(db), db.meta],
      async () => {
        if (page.reset) await Promise.all(pulledStores(db).map((t) => t.clear()));
        await applyChanges(db, page.changes);
        await db.setMeta('pull_cursor', page.cursor);
        await db.setMeta('last_pull_at', now());
      },
    );
    total += page.changes.length;
    if (!page.has_more) return total;
  }
}

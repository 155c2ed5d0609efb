/**
 * What the field screens read from the phone's database. Everything here works offline; a record
 * still in the outbox counts as much as one the server holds, so the volunteer sees their own work
 * at once.
 */
import type { Adoption, FieldDb, FieldRecord, Household, OutboxEntry, Resident, Service } from './store/db';
import { matches, normalise } from './text';

export type HouseholdFilter = 'all' | 'not_visited' | 'follow_up' | `missing:${string}`;

export interface Visit {
  id: string;
  household_id: string;
  occurred_at: string;
  channel: string;
  items: { service_code: string; outcome: string; note?: string | null }[];
  resident_ids: string[];
  notes?: string | null;
  follow_up_on?: string | null;
  superseded_by?: string | null;
  /** Who made it (a team member); empty for this phone's own records not yet sent. */
  author_id?: string | null;
  author_name?: string | null;
  pending: boolean;
}

function asVisit(id: string, data: Record<string, unknown>, pending: boolean): Visit {
  return {
    id,
    household_id: String(data.household_id ?? ''),
    occurred_at: String(data.occurred_at ?? ''),
    channel: String(data.channel ?? ''),
    items: (data.items as Visit['items']) ?? [],
    resident_ids: (data.resident_ids as string[]) ?? [],
    notes: (data.notes as string | null) ?? null,
    follow_up_on: (data.follow_up_on as string | null) ?? null,
    superseded_by: (data.superseded_by as string | null) ?? null,
    author_id: (data.author_id as string | null) ?? null,
    author_name: (data.author_name as string | null) ?? null,
    pending,
  };
}

/** Every visit known on the phone (pulled and still pending), newest first. */
export async function visits(db: FieldDb, householdId?: string): Promise<Visit[]> {
  const pulled: FieldRecord[] = householdId
    ? await db.records.where('household_id').equals(householdId).toArray()
    : await db.records.where('kind').equals('assistance_record').toArray();
  const pending: OutboxEntry[] = await db.outbox.filter((e) => e.kind === 'assistance_record').toArray();
  const byId = new Map<string, Visit>();
  for (const r of pulled) if (r.kind === 'assistance_record') byId.set(r.id, asVisit(r.id, r.data, false));
  for (const e of pending) {
    if (householdId && e.data.household_id !== householdId) continue;
    if (!byId.has(e.id)) byId.set(e.id, asVisit(e.id, e.data, true));
  }
  return [...byId.values()]
    .filter((v) => !v.superseded_by)
    .sort((a, b) => b.occurred_at.localeCompare(a.occurred_at));
}

function needsFollowUp(v: Visit | undefined): boolean {
  return !!v && (!!v.follow_up_on || v.items.some((i) => i.outcome === 'needs_follow_up'));
}

export interface HouseholdRow {
  household: Household;
  lastVisit: string | null;
  followUp: boolean;
}

export async function households(
  db: FieldDb,
  options: { query?: string; filter?: HouseholdFilter } = {},
): Promise<HouseholdRow[]> {
  const [all, residents, allVisits, adoptions] = await Promise.all([
    db.households.toArray(),
    options.query ? db.residents.toArray() : Promise.resolve([] as Resident[]),
    visits(db),
    options.filter?.startsWith('missing:') ? db.adoptions.toArray() : Promise.resolve([] as Adoption[]),
  ]);
  const latest = new Map<string, Visit>();
  for (const v of allVisits) if (!latest.has(v.household_id)) latest.set(v.household_id, v);
  let found = all;
  if (options.query && normalise(options.query)) {
    const byResident = new Set(residents.filter((r) => matches(r.search, options.query!)).map((r) => r.household_id));
    found = found.filter((h) => matches(h.search, options.query!) || byResident.has(h.id));
  }
  const filter = options.filter ?? 'all';
  if (filter === 'not_visited') found = found.filter((h) => !h.last_visited_at && !latest.has(h.id));
  if (filter === 'follow_up') found = found.filter((h) => needsFollowUp(latest.get(h.id)));
  if (filter.startsWith('missing:')) {
    const code = filter.slice('missing:'.length);
    const covered = new Set(
      adoptions
        .filter((a) => a.service_code === code && (a.status === 'done' || a.status === 'not_applicable'))
        .map((a) => a.household_id),
    );
    found = found.filter((h) => !covered.has(h.id));
  }
  return found
    .map((household) => {
      const v = latest.get(household.id);
      const last = [v?.occurred_at, household.last_visited_at].filter(Boolean).sort().pop() ?? null;
      return { household, lastVisit: last, followUp: needsFollowUp(v) };
    })
    .sort((a, b) => address(a.household).localeCompare(address(b.household), 'vi', { numeric: true }));
}

export function address(h: Household): string {
  return [h.house_number, h.lane, h.hamlet].filter(Boolean).join(', ');
}

export interface HouseholdDetail {
  household: Household;
  residents: Resident[];
  adoptions: Adoption[];
  visits: Visit[];
}

export async function household(db: FieldDb, id: string): Promise<HouseholdDetail | null> {
  const h = await db.households.get(id);
  if (!h) return null;
  const [residents, adoptions, vs] = await Promise.all([
    db.residents.where('household_id').equals(id).toArray(),
    db.adoptions.where('household_id').equals(id).toArray(),
    visits(db, id),
  ]);
  residents.sort((a, b) => (a.birth_year ?? 0) - (b.birth_year ?? 0));
  return { household: h, residents, adoptions, visits: vs };
}

/**
 * The services a visit is most likely about: the person-level ones that a ticked resident (or,
 * with nobody ticked yet, any resident) old enough for them has not done, and the household-level
 * ones the household has not done. `done` and `not_applicable` count as done; an unknown birth
 * year counts as old enough, so nobody is hidden for a missing date.
 */
export function stillLacking(catalogue: Service[], detail: HouseholdDetail, ticked: string[], year: number): Set<string> {
  const settled = new Set(
    detail.adoptions
      .filter((a) => a.status === 'done' || a.status === 'not_applicable')
      .map((a) => `${a.resident_id ?? ''}|${a.service_code}`),
  );
  const people = ticked.length > 0 ? detail.residents.filter((r) => ticked.includes(r.id)) : detail.residents;
  const out = new Set<string>();
  for (const s of catalogue) {
    if (s.level !== 'person') {
      if (!settled.has(`|${s.code}`)) out.add(s.code);
      continue;
    }
    const lacking = people.some(
      (r) => (s.min_age == null || r.birth_year == null || year - r.birth_year >= s.min_age) && !settled.has(`${r.id}|${s.code}`),
    );
    if (lacking) out.add(s.code);
  }
  return out;
}

/** The catalogue in display order, without retired services. */
export async function services(db: FieldDb): Promise<Service[]> {
  const all = await db.services.toArray();
  return all
    .filter((s) => !s.retired)
    .sort((a, b) => (a.sort_order ?? 0) - (b.sort_order ?? 0) || a.code.localeCompare(b.code));
}

/**
 * A resident's status for a service: a visit still in the outbox that finished it shows `done` (or
 * `assisted`) before the server has answered.
 */
export function statusOf(detail: HouseholdDetail, service: string, residentId: string | null): string {
  for (const v of detail.visits) {
    if (!v.pending) continue;
    if (residentId && v.resident_ids.length && !v.resident_ids.includes(residentId)) continue;
    const item = v.items.find((i) => i.service_code === service);
    if (item?.outcome === 'done') return 'done';
    if (item?.outcome === 'assisted') return 'assisted';
  }
  const a = detail.adoptions.find(
    (x) => x.service_code === service && (residentId ? x.resident_id === residentId : !x.resident_id),
  );
  return a?.status ?? 'unknown';
}

/** Field-home figures: visits logged today (Vietnam time) and households waiting for a follow-up. */
export async function today(db: FieldDb, todayLocal: string): Promise<{ visits: number; followUps: number }> {
  const all = await visits(db);
  const toLocal = (iso: string) => new Date(Date.parse(iso) + 7 * 3600_000).toISOString().slice(0, 10);
  const latest = new Map<string, Visit>();
  for (const v of all) if (!latest.has(v.household_id)) latest.set(v.household_id, v);
  return {
    visits: all.filter((v) => v.occurred_at && toLocal(v.occurred_at) === todayLocal).length,
    followUps: [...latest.values()].filter(needsFollowUp).length,
  };
}

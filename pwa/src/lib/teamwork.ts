/**
 * The teams and trainings screens' API calls and the small pure rules behind them. Both screens
 * are online only. The village leader reaches the teams screen from a phone, so this module does
 * not pull in the office screens' module and strings: only its own.
 */
import { answered as data, apiClient, ApiProblem, type Answer, type Schemas } from './api/client';
import { session } from './field';
import { addStrings, t, type KeysOf } from './i18n';

const client = apiClient({ fetch: session.authFetch });

await addStrings({
  vi: async () => (await import('./i18n/teamwork.vi.json')).default,
  en: async () => (await import('./i18n/teamwork.en.json')).default,
});

/** `$t` for these screens (their strings load with this module). */
export { t };

export type Key = KeysOf<typeof import('./i18n/teamwork.vi.json')>;
export type Translate = (key: Key, options?: Record<string, string | number>) => string;

export type Team = Schemas['TeamResponse'];
export type Member = Schemas['MemberResponse'];
export type Position = Schemas['Position'];
export type Origin = Schemas['Origin'];
export type Device = Schemas['DeviceResponse'];
export type Village = Schemas['VillageResponse'];
export type Account = Schemas['UserResponse'];
export type Training = Schemas['TrainingResponse'];
export type TrainingDetail = Schemas['TrainingDetail'];
export type MemberTraining = Schemas['MemberTraining'];
export type TrainingMode = Schemas['TrainingMode'];
export type Service = Schemas['ServiceResponse'];
export type NewTraining = Schemas['CreateTraining'];
export type TrainingChange = Schemas['UpdateTraining'];

export const POSITIONS: Position[] = ['leader', 'deputy', 'member'];
export const ORIGINS: Origin[] = [
  'official',
  'party_member',
  'teacher',
  'youth_union',
  'womens_union',
  'police',
  'health_worker',
  'veterans',
  'fatherland_front',
  'volunteer',
  'other',
];
export const MODES: TrainingMode[] = ['in_person', 'online', 'mixed'];
export const ORGANISERS = [
  'chairman',
  'police',
  'health',
  'education',
  'economy',
  'culture_social',
  'service_center',
  'youth_union',
] as const;
export type Organiser = (typeof ORGANISERS)[number];

export const teams = {
  list: () => data(client.GET('/api/v1/teams', {})),
  create: (body: Schemas['CreateTeam']) => data(client.POST('/api/v1/teams', { body }) as Answer<Team>),
  members: (id: string) => data(client.GET('/api/v1/teams/{id}/members', { params: { path: { id } } })),
  addMember: (id: string, body: Schemas['CreateMember']) =>
    data(client.POST('/api/v1/teams/{id}/members', { params: { path: { id } }, body }) as Answer<Member>),
  updateMember: (id: string, memberId: string, body: Schemas['UpdateMember']) =>
    data(
      client.PATCH('/api/v1/teams/{id}/members/{member_id}', {
        params: { path: { id, member_id: memberId } },
        body,
      }) as Answer<Member>,
    ),
  memberTrainings: (id: string, memberId: string) =>
    data(client.GET('/api/v1/teams/{id}/members/{member_id}/trainings', { params: { path: { id, member_id: memberId } } })),
  /** Villages the caller sees (one page: a commune has far fewer than 200). */
  villages: () => data(client.GET('/api/v1/villages', { params: { query: { limit: 200 } } })),
  devices: () => data(client.GET('/api/v1/devices', {})),
  /** Active accounts the caller manages, to link a member to one (first 200 by username). */
  accounts: () => data(client.GET('/api/v1/users', { params: { query: { limit: 200, active: true } } })),
};

export const trainings = {
  list: (from: string, to: string) => data(client.GET('/api/v1/trainings', { params: { query: { from, to } } })),
  get: (id: string) => data(client.GET('/api/v1/trainings/{id}', { params: { path: { id } } })),
  create: (body: NewTraining) => data(client.POST('/api/v1/trainings', { body }) as Answer<Training>),
  update: (id: string, body: TrainingChange) =>
    data(client.PATCH('/api/v1/trainings/{id}', { params: { path: { id } }, body }) as Answer<TrainingDetail>),
  attendance: (id: string, entries: Schemas['AttendanceEntry'][]) =>
    data(
      client.PUT('/api/v1/trainings/{id}/attendance', { params: { path: { id } }, body: { entries } }) as Answer<TrainingDetail>,
    ),
  services: () => data(client.GET('/api/v1/services', {})),
};

/** The export's URL and the name to save it under. */
export function exportFile(format: 'csv' | 'xlsx', from: string, to: string): { path: string; filename: string } {
  const query = new URLSearchParams({ format, from, to });
  return { path: `/api/v1/exports/trainings?${query}`, filename: `tap-huan-${from}-${to}.${format}` };
}

/** Downloads a file the API makes with the session's token. */
export async function download(path: string, filename: string): Promise<void> {
  let res: Response;
  try {
    res = await session.authFetch(path);
  } catch (error) {
    if ((error as Error).name === 'LoginRequired') throw error;
    throw new ApiProblem(0, undefined);
  }
  if (!res.ok) {
    const problem = await res.json().catch(() => undefined);
    throw new ApiProblem(res.status, typeof problem?.code === 'string' ? problem : undefined);
  }
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/**
 * A failed call as a sentence: no answer, a known problem code, the invalid fields, or the status
 * and code as a last resort.
 */
export function problemText(error: unknown, translate: Translate): string {
  if (!(error instanceof ApiProblem)) return translate('teams.failed', { status: 0, code: (error as Error)?.name ?? '' });
  if (error.status === 0) return translate('teams.offline');
  const problem = error.problem;
  const known = (section: 'problem' | 'reason', code: string) => {
    const key = `teams.${section}.${code}` as Key;
    const text = translate(key);
    return text === key ? null : text;
  };
  if (problem?.errors?.length) {
    return problem.errors
      .map((e) => translate('teams.fieldError', { field: e.field, reason: known('reason', e.code) ?? e.message }))
      .join(' · ');
  }
  return (problem && known('problem', problem.code)) ?? translate('teams.failed', { status: error.status, code: problem?.code ?? '' });
}

/** Whether a member is in the team on `today` (`YYYY-MM-DD`). */
export function isActive(m: Pick<Member, 'active_from' | 'active_until'>, today: string): boolean {
  return m.active_from <= today && (m.active_until == null || m.active_until >= today);
}

/**
 * The last day to set when a member leaves as of today: yesterday, so they no longer count today;
 * never before their first day (the server refuses an end before the start).
 */
export function leavingDay(m: Pick<Member, 'active_from'>, today: string): string {
  const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  return m.active_from > yesterday ? m.active_from : yesterday;
}

export interface SyncSummary {
  /** Latest upload or download from any of the user's devices (ISO time). */
  at: string | null;
  devices: number;
  /** Code of the last refusal on the device that synced last, if any. */
  lastError: string | null;
}

/** Each user's latest sync over their devices, by user id. */
export function syncByUser(devices: Device[]): Map<string, SyncSummary> {
  const out = new Map<string, SyncSummary>();
  const latest = (d: Device) => [d.last_push_at, d.last_pull_at].filter((x): x is string => !!x).sort().at(-1) ?? null;
  for (const d of devices) {
    const at = latest(d);
    const seen = out.get(d.user_id);
    if (!seen) {
      out.set(d.user_id, { at, devices: 1, lastError: d.last_error ?? null });
      continue;
    }
    seen.devices++;
    if (at && (!seen.at || Date.parse(at) > Date.parse(seen.at))) {
      seen.at = at;
      seen.lastError = d.last_error ?? null;
    }
  }
  return out;
}

/**
 * What to send after the ticks changed: every ticked member as present, and every member who was
 * recorded before and is no longer ticked as absent. Members never recorded and not ticked are not
 * sent, so a training does not collect rows of "absent" for the whole commune.
 */
export function attendanceEntries(
  recorded: Map<string, boolean>,
  ticked: Set<string>,
): Schemas['AttendanceEntry'][] {
  const entries: Schemas['AttendanceEntry'][] = [...ticked].map((member_id) => ({ member_id, attended: true }));
  for (const [member_id, attended] of recorded) {
    if (attended && !ticked.has(member_id)) entries.push({ member_id, attended: false });
  }
  return entries;
}

/** 1 January and 31 December of the year of `today`. */
export function yearOf(today: string): { from: string; to: string } {
  const y = today.slice(0, 4);
  return { from: `${y}-01-01`, to: `${y}-12-31` };
}

/** Who may change a training (as the API decides: organiser, culture-social office, chairman, admin). */
export function managesTraining(
  user: { role: string; department?: string | null } | null,
  training: Pick<Training, 'organiser'>,
): boolean {
  if (!user) return false;
  if (user.role === 'admin' || user.role === 'chairman') return true;
  if (user.role !== 'department') return false;
  return user.department === 'culture_social' || user.department === training.organiser;
}

/** The organiser a caller plans as (the API sets it: its department, or `chairman`). */
export function ownOrganiser(user: { role: string; department?: string | null } | null): Organiser | null {
  if (user?.role === 'chairman') return 'chairman';
  if (user?.role === 'department' && user.department) return user.department as Organiser;
  return null;
}

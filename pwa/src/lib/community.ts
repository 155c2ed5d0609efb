/**
 * The community screens of the office side: the difficulty inbox, award proposals and emulation
 * campaigns. Online calls with the session's token; types come from the committed OpenAPI contract.
 */
import { answered as data, apiClient, ApiProblem, type Schemas } from './api/client';
import { session } from './field';
import { addStrings, t, type KeysOf } from './i18n';
// Importing the office module also loads its strings (departments, periods) these screens reuse.
import { changes, download, failure } from './office';

export { changes, download, failure };

const client = apiClient({ fetch: session.authFetch });

await addStrings({
  vi: async () => (await import('./i18n/community.vi.json')).default,
  en: async () => (await import('./i18n/community.en.json')).default,
});

/** `$t` for these screens (their strings load with this module). */
export { t };

export type CommunityKey = KeysOf<typeof import('./i18n/community.vi.json')>;

export type Difficulty = Schemas['DifficultyResponse'];
export type DifficultyDetail = Schemas['DifficultyDetail'];
export type Campaign = Schemas['CampaignResponse'];
export type Rule = Schemas['Rule'];
export type Leaderboard = Schemas['Leaderboard'];
export type BoardBy = Schemas['BoardBy'];
export type Proposal = Schemas['ProposalResponse'];
export type NewProposal = Schemas['CreateProposal'];
export type Team = Schemas['TeamResponse'];
export type Member = Schemas['MemberResponse'];
export type Village = Schemas['VillageResponse'];
export type Service = Schemas['ServiceResponse'];
export type Department = Schemas['Department'];

export const DEPARTMENTS: Department[] = ['police', 'health', 'education', 'economy', 'culture_social', 'service_center', 'youth_union'];

/** Who the signed-in user is, as these screens need it. */
export function who() {
  const user = session.user;
  const role = user?.role ?? '';
  const department = user?.department ?? null;
  return {
    role,
    department,
    /** The culture-social office and the chairman coordinate the inbox (and administrators). */
    coordinator: role === 'admin' || role === 'chairman' || (role === 'department' && department === 'culture_social'),
    /** Those the API lets run campaigns. */
    organiser:
      role === 'admin' || role === 'chairman' || (role === 'department' && (department === 'youth_union' || department === 'culture_social')),
    /** Only the culture-social office (and administrators) proposes awards; only the chairman decides. */
    proposer: role === 'admin' || (role === 'department' && department === 'culture_social'),
    decider: role === 'chairman',
  };
}

/** Most pages read for one list (200 each): the inbox of a commune stays well below this. */
const MAX_PAGES = 25;

export const difficulties = {
  /** Every difficulty matching the server's filters, newest first. */
  async list(filter: { status?: string; assigned?: string }): Promise<Difficulty[]> {
    const out: Difficulty[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await data(
        client.GET('/api/v1/difficulties', {
          params: { query: { limit: 200, ...(cursor ? { cursor } : {}), ...(filter.status ? { status: filter.status } : {}), ...(filter.assigned ? { assigned: filter.assigned } : {}) } },
        }),
      );
      out.push(...page.items);
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    return out.sort((a, b) => b.raised_at.localeCompare(a.raised_at));
  },
  get: (id: string) => data(client.GET('/api/v1/difficulties/{id}', { params: { path: { id } } })),
  assign: (id: string, department: string | null) =>
    data(client.PATCH('/api/v1/difficulties/{id}', { params: { path: { id } }, body: { assigned_department: department } })),
  setStatus: (id: string, status: 'open' | 'closed') =>
    data(client.PATCH('/api/v1/difficulties/{id}', { params: { path: { id } }, body: { status } })),
  reply: (id: string, body: string) => data(client.POST('/api/v1/difficulties/{id}/replies', { params: { path: { id } }, body: { body } })),
  /** The export as CSV or XLSX over `[from, to]` (Vietnam dates). */
  export: (format: 'csv' | 'xlsx', from: string, to: string) =>
    download(`/api/v1/exports/difficulties?format=${format}&from=${from}&to=${to}`, `kho-khan-${from}-${to}.${format}`),
};

export const campaigns = {
  list: async () => (await data(client.GET('/api/v1/campaigns', {}))).items,
  create: (c: Schemas['CreateCampaign']) => data(client.POST('/api/v1/campaigns', { body: c })),
  update: (id: string, c: Schemas['UpdateCampaign']) => data(client.PATCH('/api/v1/campaigns/{id}', { params: { path: { id } }, body: c })),
  leaderboard: (id: string, by: BoardBy) =>
    data(client.GET('/api/v1/campaigns/{id}/leaderboard', { params: { path: { id }, query: { by } } })),
};

export const awards = {
  list: async (status?: string) =>
    (await data(client.GET('/api/v1/award-proposals', { params: { query: status ? { status } : {} } }))).items,
  propose: (p: NewProposal) => data(client.POST('/api/v1/award-proposals', { body: p })),
  decide: (id: string, decision: 'approve' | 'reject', note: string) =>
    data(
      client.POST('/api/v1/award-proposals/{id}/decision', {
        params: { path: { id } },
        body: { decision, ...(note ? { note } : {}) },
      }),
    ),
};

/** The commune's register these screens name things with. */
export const register = {
  villages: async () => (await data(client.GET('/api/v1/villages', { params: { query: { limit: 200 } } }))).items,
  services: async () => (await data(client.GET('/api/v1/services', {}))).items,
  teams: async () => (await data(client.GET('/api/v1/teams', {}))).items,
  members: async (teamId: string) => (await data(client.GET('/api/v1/teams/{id}/members', { params: { path: { id: teamId } } }))).items,
};

/** The server's validation problem names the fields it refused; the first one, for the message. */
export function problemField(error: unknown): string | undefined {
  return error instanceof ApiProblem ? error.problem?.errors?.[0]?.field : undefined;
}

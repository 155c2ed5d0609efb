/**
 * The administrator's calls (accounts, audit log, API keys, webhooks, communes and villages, the
 * catalogue), straight from the API with the session's token, and the admin screens' strings.
 */
import { answered as data, apiClient, ApiProblem, type Answer, type Schemas } from './api/client';
import { session } from './field';
import { addStrings, t, type KeysOf } from './i18n';

const client = apiClient({ fetch: session.authFetch });

await addStrings({
  vi: async () => (await import('./i18n/admin.vi.json')).default,
  en: async () => (await import('./i18n/admin.en.json')).default,
});

/** `$t` for the admin screens (their strings load with this module). */
export { t };

export type AdminKey = KeysOf<typeof import('./i18n/admin.vi.json')>;

export type User = Schemas['UserResponse'];
export type NewUser = Schemas['CreateUser'];
export type UserChanges = Schemas['UpdateUser'];
export type Role = Schemas['Role'];
export type Department = Schemas['Department'];
export type AuditEvent = Schemas['AuditEventResponse'];
export type ApiKey = Schemas['ApiKeyResponse'];
export type Webhook = Schemas['WebhookResponse'];
export type Delivery = Schemas['DeliveryResponse'];
export type Commune = Schemas['CommuneResponse'];
export type Village = Schemas['VillageResponse'];
export type Service = Schemas['ServiceResponse'];
export type Indicator = Schemas['IndicatorResponse'];

export const ROLES: readonly Role[] = ['admin', 'city', 'chairman', 'department', 'village_leader', 'volunteer'];
export const DEPARTMENTS: readonly Department[] = [
  'police',
  'health',
  'education',
  'economy',
  'culture_social',
  'service_center',
  'youth_union',
];
/** API key scopes (`api/src/auth/api_key.rs`). */
export const SCOPES = ['stats:read', 'materials:read', 'exports:read'] as const;
/** Webhook events (`api/src/db/webhooks.rs`). */
export const EVENTS = ['report.approved', 'difficulty.opened', 'records.synced', 'indicator.threshold_crossed'] as const;

/** Roles tied to one commune, and those that also need villages (the server's `validate_shape`). */
export const communeRole = (r: Role) => r !== 'admin' && r !== 'city';
export const villageRole = (r: Role) => r === 'village_leader' || r === 'volunteer';

/** A call answered 204 No Content: only its status matters. */
async function done(call: Promise<{ error?: unknown; response: Response }>): Promise<void> {
  let answer: { error?: unknown; response: Response };
  try {
    answer = await call;
  } catch (error) {
    if ((error as Error).name === 'LoginRequired') throw error;
    throw new ApiProblem(0, undefined);
  }
  if (!answer.response.ok) {
    const e = answer.error as Schemas['Problem'] | undefined;
    throw new ApiProblem(answer.response.status, typeof e?.code === 'string' ? e : undefined);
  }
}

/** Every page of a cursor-paged list (communes and villages are few: a handful of calls at most). */
async function all<T>(page: (cursor?: string) => Promise<{ items: T[]; next_cursor?: string | null }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const p = await page(cursor);
    out.push(...p.items);
    if (!p.next_cursor) break;
    cursor = p.next_cursor;
  }
  return out;
}

export interface UserFilter {
  role?: Role;
  active?: boolean;
  village_id?: string;
}

export const users = {
  list: (filter: UserFilter, cursor?: string) =>
    data(client.GET('/api/v1/users', { params: { query: { ...filter, limit: 50, ...(cursor ? { cursor } : {}) } } })),
  create: (u: NewUser) => data(client.POST('/api/v1/users', { body: u }) as Answer<User>),
  /** The account with its ETag, to send back as `If-Match` with a change. */
  get: async (id: string): Promise<{ user: User; etag: string | null }> => {
    const call = client.GET('/api/v1/users/{id}', { params: { path: { id } } });
    const user = await data(call);
    return { user, etag: (await call).response.headers.get('etag') };
  },
  update: (id: string, changes: UserChanges, etag: string | null) =>
    data(
      client.PATCH('/api/v1/users/{id}', {
        params: { path: { id }, header: etag ? { 'If-Match': etag } : {} },
        body: changes,
      }) as Answer<User>,
    ),
  resetPassword: (id: string, password: string) =>
    done(client.POST('/api/v1/users/{id}/password', { params: { path: { id } }, body: { new_password: password } })),
};

export interface AuditFilter {
  action?: string;
  actor_user_id?: string;
  object_id?: string;
  commune_id?: string;
  since?: string;
  until?: string;
}

export const audit = {
  list: (filter: AuditFilter, cursor?: string) =>
    data(client.GET('/api/v1/audit-events', { params: { query: { ...filter, limit: 50, ...(cursor ? { cursor } : {}) } } })),
};

export const apiKeys = {
  list: () => data(client.GET('/api/v1/api-keys', {})),
  create: (k: Schemas['NewApiKey']) => data(client.POST('/api/v1/api-keys', { body: k }) as Answer<Schemas['CreatedApiKey']>),
  revoke: (id: string) => done(client.DELETE('/api/v1/api-keys/{id}', { params: { path: { id } } })),
};

export const webhooks = {
  list: () => data(client.GET('/api/v1/webhooks', {})),
  create: (w: Schemas['NewWebhook']) => data(client.POST('/api/v1/webhooks', { body: w }) as Answer<Schemas['CreatedWebhook']>),
  remove: (id: string) => done(client.DELETE('/api/v1/webhooks/{id}', { params: { path: { id } } })),
  deliveries: (id: string, status?: string) =>
    data(client.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id }, query: status ? { status } : {} } })),
  replay: (id: string, deliveryId: string) =>
    data(
      client.POST('/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay', {
        params: { path: { id, delivery_id: deliveryId } },
      }) as Answer<Delivery>,
    ),
};

export const places = {
  communes: () =>
    all((cursor) => data(client.GET('/api/v1/communes', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } }))),
  villages: (communeId?: string) =>
    all((cursor) =>
      data(
        client.GET('/api/v1/villages', {
          params: { query: { limit: 200, ...(communeId ? { commune_id: communeId } : {}), ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ),
  createCommune: (c: Schemas['CreateCommune']) => data(client.POST('/api/v1/communes', { body: c }) as Answer<Commune>),
  updateCommune: (id: string, c: Schemas['UpdateCommune']) =>
    data(client.PATCH('/api/v1/communes/{id}', { params: { path: { id } }, body: c }) as Answer<Commune>),
  createVillage: (v: Schemas['CreateVillage']) => data(client.POST('/api/v1/villages', { body: v }) as Answer<Village>),
  updateVillage: (id: string, v: Schemas['UpdateVillage']) =>
    data(client.PATCH('/api/v1/villages/{id}', { params: { path: { id } }, body: v }) as Answer<Village>),
};

export const catalogue = {
  services: () => data(client.GET('/api/v1/services', { params: { query: { include_retired: true } } })),
  createService: (s: Schemas['CreateService']) => data(client.POST('/api/v1/services', { body: s }) as Answer<Service>),
  updateService: (id: string, s: Schemas['UpdateService']) =>
    data(client.PATCH('/api/v1/services/{id}', { params: { path: { id } }, body: s }) as Answer<Service>),
  indicators: () => data(client.GET('/api/v1/indicators', {})),
  updateIndicator: (id: string, i: Schemas['UpdateIndicator']) =>
    data(client.PATCH('/api/v1/indicators/{id}', { params: { path: { id } }, body: i }) as Answer<Indicator>),
};

/** Field error codes the screens translate; any other shows the server's (English) message. */
const FIELD_CODES = [
  'required',
  'not_allowed',
  'too_short',
  'too_long',
  'blank',
  'invalid_characters',
  'invalid_length',
  'unknown_commune',
  'unknown_village',
  'village_of_another_commune',
  'too_many',
  'unknown',
  'length',
  'out_of_range',
  'invalid_url',
  'url_credentials',
  'internal_address',
  'unknown_scope',
  'unknown_event',
] as const;

/**
 * The per-field messages of a validation problem, keyed by the top-level field
 * (`village_ids[2]` → `village_ids`): a translation key when the code is known, else the server's text.
 */
export function fieldProblems(error: unknown): Record<string, { key?: AdminKey; text: string }> {
  const out: Record<string, { key?: AdminKey; text: string }> = {};
  if (!(error instanceof ApiProblem)) return out;
  for (const e of error.problem?.errors ?? []) {
    const field = e.field.replace(/\[\d+\].*$/, '').replace(/\..*$/, '');
    if (out[field]) continue; // the first problem of a field is enough to fix it
    const known = (FIELD_CODES as readonly string[]).includes(e.code);
    out[field] = { key: known ? (`admin.fieldError.${e.code}` as AdminKey) : undefined, text: e.message };
  }
  return out;
}

/** Problem codes (not per field) the screens translate. */
const PROBLEM_CODES = [
  'username_taken',
  'code_taken',
  'edit_conflict',
  'cannot_change_own_access',
  'role_not_assignable',
  'api_key_revoked',
  'delivery_pending',
  'validation_failed',
  'forbidden',
] as const;

/** The translation key of a failed call's message: a known problem code, else by status. */
export function problemKey(error: unknown): AdminKey {
  const status = error instanceof ApiProblem ? error.status : 0;
  const code = error instanceof ApiProblem ? error.code : undefined;
  if (code && (PROBLEM_CODES as readonly string[]).includes(code)) return `admin.problem.${code}` as AdminKey;
  if (status === 0) return 'admin.problem.offline';
  if (status === 403) return 'admin.problem.forbidden';
  if (status === 404) return 'admin.problem.notFound';
  return 'admin.problem.other';
}

/** Audit actions with a label; others are shown by their code. */
export const ACTIONS = [
  'login',
  'login_failed',
  'logout',
  'user_created',
  'user_updated',
  'role_changed',
  'user_deactivated',
  'password_reset',
  'password_changed',
  'api_key_created',
  'api_key_revoked',
  'api_key_used',
  'webhook_created',
  'webhook_deleted',
  'webhook_delivery_replayed',
  'commune_created',
  'commune_updated',
  'village_created',
  'village_updated',
  'service_created',
  'service_updated',
  'indicator_created',
  'indicator_updated',
  'export',
  'personal_data_read',
  'refresh_token_reuse',
  'personal_data_synced',
  'households_imported',
  'members_imported',
  'adoption_corrected',
  'household_deleted',
  'report_approved',
  'report_submitted',
  'sync_conflict',
  'demo_seeded',
  'sessions_revoked',
  'household_created',
  'household_updated',
  'household_erased',
  'personal_data_exported',
  'retention_purge',
  'resident_created',
  'resident_updated',
  'resident_deleted',
  'conflict_resolved',
  'material_created',
  'material_updated',
  'material_published',
  'material_withdrawn',
  'attachment_uploaded',
  'team_created',
  'team_updated',
  'team_member_added',
  'team_member_updated',
  'training_created',
  'training_updated',
  'training_attendance',
  'difficulty_assigned',
  'difficulty_replied',
  'difficulty_closed',
  'difficulty_reopened',
  'award_proposed',
  'award_approved',
  'award_rejected',
  'campaign_created',
  'campaign_updated',
  'plan_issued',
  'plan_amended',
  'targets_set',
  'funding_recorded',
  'funding_voided',
  'report_prepared',
  'report_returned',
  'report_acknowledged',
] as const;

export function actionKey(action: string): AdminKey | null {
  return (ACTIONS as readonly string[]).includes(action) ? (`admin.action.${action}` as AdminKey) : null;
}

const OBJECT_TYPES = [
  'user',
  'session',
  'api_key',
  'webhook',
  'webhook_delivery',
  'commune',
  'village',
  'service',
  'indicator',
  'household',
  'resident',
  'report',
  'plan',
  'material',
  'team',
  'team_member',
  'sync',
  'training',
  'difficulty',
  'campaign',
  'funding_entry',
  'indicator_missing',
  'indicator_figures',
  'households',
  'changes',
  'assistance_records',
  'communications',
  'difficulties',
  'trainings',
] as const;

export function objectTypeKey(type: string | null | undefined): AdminKey | null {
  return type && (OBJECT_TYPES as readonly string[]).includes(type) ? (`admin.objectType.${type}` as AdminKey) : null;
}

/**
 * A readable name of an audit event's object, from what its details carry; else the end of its id
 * (ids are time-ordered UUIDs, so their first characters are alike for everything made the same day).
 */
export function auditTarget(e: AuditEvent): string {
  const d = (e.details ?? {}) as Record<string, unknown>;
  for (const k of ['username', 'name', 'code']) if (typeof d[k] === 'string' && d[k]) return d[k] as string;
  return e.object_id ? (e.object_id.length > 12 ? `…${e.object_id.slice(-8)}` : e.object_id) : '';
}

/** The start of a Vietnamese calendar day (`YYYY-MM-DD`) as RFC 3339, for the audit filters. */
export function dayStart(date: string): string {
  return new Date(`${date}T00:00:00+07:00`).toISOString();
}

/** The start of the Vietnamese day after `date`: an `until` that includes the whole of `date`. */
export function dayAfter(date: string): string {
  return new Date(new Date(`${date}T00:00:00+07:00`).getTime() + 86_400_000).toISOString();
}

/** A password good enough to hand over: 12 characters without look-alikes (0/O, 1/l/I). */
export function suggestPassword(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(random(12), (b) => alphabet[b % alphabet.length]).join('');
}

/** Copies text to the clipboard; false when the browser refuses (then the text is selected for the user). */
export async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The office screens' reads: figures and lists straight from the API (online), with the session's
 * token. Types come from the committed OpenAPI contract.
 */
import { answered as data, apiClient, ApiProblem, type Answer } from './api/client';
import { session } from './field';
import { addStrings } from './i18n';

const client = apiClient({ fetch: session.authFetch });

await addStrings({
  vi: async () => (await import('./i18n/office.vi.json')).default,
  en: async () => (await import('./i18n/office.en.json')).default,
});
import type { Schemas } from './api/client';

export type Figures = Schemas['FiguresResponse'];
export type IndicatorFigures = Schemas['IndicatorFigures'];
export type Progress = Schemas['ProgressResponse'];
export type MissingPage = Schemas['MissingPage'];
export type PeriodKind = Schemas['PeriodKind'];

/** The status of a failed call for the screens' messages: 0 when there was no answer at all. */
export function failure(error: unknown): number {
  return error instanceof ApiProblem ? error.status : 0;
}

export function indicators(period: PeriodKind, date: string, villageId?: string): Promise<Figures> {
  return data<Figures>(
    client.GET('/api/v1/stats/indicators', {
      params: { query: { period, date, group_by: villageId ? undefined : 'village', ...(villageId ? { village_id: villageId } : {}) } },
    }) as Answer<Figures>,
  );
}

export function progress(period: PeriodKind, date: string): Promise<Progress> {
  return data(client.GET('/api/v1/stats/progress', { params: { query: { period, date } } }));
}

export function missing(code: string, period: PeriodKind, date: string, cursor?: string): Promise<MissingPage> {
  return data<MissingPage>(
    client.GET('/api/v1/stats/indicators/{code}/missing', {
      params: { path: { code }, query: { period, date, limit: 50, ...(cursor ? { cursor } : {}) } },
    }) as Answer<MissingPage>,
  );
}

/** Downloads a file the API makes (CSV, XLSX) with the session's token. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await session.authFetch(path);
  if (!res.ok) throw new ApiProblem(res.status, undefined);
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/**
 * The previous period recorded nothing behind this figure while this one did: a change against
 * it is only the start of the records, so the screen says so instead of a gain.
 */
export function previousEmpty(f: IndicatorFigures): boolean {
  return f.previous != null && f.previous.numerator === 0 && f.current.numerator > 0;
}

/** The gap between the current and the previous rate, in percentage points (one decimal). */
export function trend(f: IndicatorFigures): number | null {
  const now = f.current.percent;
  const before = f.previous?.percent;
  if (now == null || before == null || previousEmpty(f)) return null;
  return Math.round((now - before) * 10) / 10;
}

export type ReportSummary = Schemas['ReportSummary'];
export type Submission = Schemas['SubmissionResponse'];
export type PlanSummary = Schemas['PlanSummary'];
export type Plan = Schemas['PlanResponse'];
export type NewPlan = Schemas['NewPlan'];
export type TargetInput = Schemas['TargetInput'];

export type Compare = Schemas['CompareResponse'];

export function communes(period: PeriodKind, date: string): Promise<Compare> {
  return data(client.GET('/api/v1/stats/communes', { params: { query: { period, date } } }));
}

export const reports = {
  list: () => data(client.GET('/api/v1/reports', {})),
  prepare: (period: 'quarter' | 'year', date: string) =>
    data(client.POST('/api/v1/reports', { body: { period, date } }) as Answer<unknown>),
  approve: (id: string) => data(client.POST('/api/v1/reports/{id}/approve', { params: { path: { id } } }) as Answer<unknown>),
  /** The chairman sends a draft back to the culture-social office with what to change. */
  sendBack: (id: string, reason: string) =>
    data(client.POST('/api/v1/reports/{id}/return', { params: { path: { id } }, body: { reason } }) as Answer<unknown>),
  submit: (id: string) => data(client.POST('/api/v1/reports/{id}/submit', { params: { path: { id } } }) as Answer<unknown>),
  submissions: () => data(client.GET('/api/v1/report-submissions', {})),
  /** Commune names by id (the city's submissions name communes by id). */
  communeNames: async () => {
    const page = await data(client.GET('/api/v1/communes', { params: { query: { limit: 200 } } }));
    return Object.fromEntries(page.items.map((c) => [c.id, c.name]));
  },
  acknowledge: (id: string, note: string) =>
    data(
      client.POST('/api/v1/reports/{id}/acknowledge', {
        params: { path: { id } },
        body: note ? { note } : {},
      }) as Answer<unknown>,
    ),
};

export const plans = {
  list: () => data(client.GET('/api/v1/plans', {})),
  get: (id: string) => data(client.GET('/api/v1/plans/{id}', { params: { path: { id } } })),
  create: (plan: NewPlan) => data(client.POST('/api/v1/plans', { body: plan }) as Answer<Plan>),
  setTargets: (period: PeriodKind, date: string, items: TargetInput[]) =>
    data(client.PUT('/api/v1/targets', { body: { period, date, items } }) as Answer<unknown>),
  indicators: () => data(client.GET('/api/v1/indicators', {})),
  amend: (id: string, amendment: Schemas['AmendPlan']) =>
    data(client.POST('/api/v1/plans/{id}/versions', { params: { path: { id } }, body: amendment }) as Answer<Plan>),
};

/** Opens an HTML page the API makes (the printable report) in a new tab, with the session's token. */
export async function openHtml(path: string): Promise<void> {
  const tab = window.open('', '_blank');
  const res = await session.authFetch(path);
  if (!res.ok) {
    tab?.close();
    throw new ApiProblem(res.status, undefined);
  }
  const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/html' }));
  if (tab) tab.location.href = url;
  else location.href = url;
}

export type Material = Schemas['MaterialResponse'];
export type Conflict = Schemas['ConflictResponse'];

export const materials = {
  list: () => data(client.GET('/api/v1/materials', { params: { query: { with_body: true } } })),
  create: (m: Schemas['CreateMaterial']) => data(client.POST('/api/v1/materials', { body: m }) as Answer<Material>),
  publish: (id: string, version: number) =>
    data(client.POST('/api/v1/materials/{id}/publish', { params: { path: { id } }, body: { version } }) as Answer<Material>),
  services: () => data(client.GET('/api/v1/services', {})),
};

export const conflicts = {
  open: () => data(client.GET('/api/v1/conflicts', { params: { query: { status: 'open' } } })),
  resolve: (id: string, resolution: 'keep_server' | 'apply_client') =>
    data(client.POST('/api/v1/conflicts/{id}/resolve', { params: { path: { id } }, body: { resolution } }) as Answer<unknown>),
};

/**
 * A screen's changes: each runs with the screen marked busy, then the screen reloads; a failure
 * goes to `failed` and the screen stays as it was.
 */
export function changes(screen: {
  busy: (on: boolean) => void;
  failed: (error: unknown) => void;
  reload: () => Promise<void>;
}): (change: () => Promise<unknown>) => Promise<void> {
  return async (change) => {
    screen.busy(true);
    try {
      await change();
      await screen.reload();
    } catch (e) {
      screen.failed(e);
    } finally {
      screen.busy(false);
    }
  };
}

export type Funding = Schemas['FundingResponse'];
export type FundingEntry = Schemas['FundingEntryResponse'];
export type NewFundingEntry = Schemas['NewFundingEntry'];

export const funding = {
  list: (period: PeriodKind, date: string) => data(client.GET('/api/v1/funding', { params: { query: { period, date } } })),
  add: (entry: NewFundingEntry) => data(client.POST('/api/v1/funding', { body: entry }) as Answer<FundingEntry>),
  void: (id: string, reason: string) =>
    data(client.POST('/api/v1/funding/{id}/void', { params: { path: { id } }, body: { reason } }) as Answer<FundingEntry>),
};

/**
 * The typed API client. `schema.d.ts` is generated from `openapi/openapi.json` (the server's
 * committed contract) by `npm run api-types`, which `check`, `test` and `build` run first, so a
 * field renamed on the server fails the type check here instead of failing in the field.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];
export type TokenResponse = Schemas['TokenResponse'];
export type PullResponse = Schemas['PullResponse'];
export type PushRequest = Schemas['PushRequest'];
export type PushResponse = Schemas['PushResponse'];
export type ApiClient = Client<paths>;
export type PullQuery = NonNullable<operations['pull']['parameters']['query']>;

export interface ClientOptions {
  /** Origin of the API; empty for the page's own. */
  baseUrl?: string;
  /** The current access token, read at each request. */
  token?: () => string | null | undefined;
  fetch?: typeof globalThis.fetch;
}

export function apiClient(options: ClientOptions = {}): ApiClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? '',
    fetch: options.fetch ?? ((request: Request) => globalThis.fetch(request)),
  });
  const token = options.token;
  if (token) {
    client.use({
      onRequest({ request }) {
        const t = token();
        if (t) request.headers.set('Authorization', `Bearer ${t}`);
        return request;
      },
    });
  }
  return client;
}

/** An answer that is not 2xx, with the server's problem details when it sent them. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.name = 'ApiProblem';
  }

  get code(): string | undefined {
    return this.problem?.code;
  }
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && typeof (value as Problem).code === 'string';
}

/** The body of a 2xx answer; anything else throws `ApiProblem` with the server's details. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    throw new ApiProblem(response.status, isProblem(error) ? error : undefined);
  }
  return data;
}

/** A call that may also fail without any answer: offline or the server unreachable. */
export type Answer<T> = Promise<{ data?: T; response: Response }>;

/**
 * The data of an online call of the office screens: an `ApiProblem` with the server's status on a
 * refusal, `ApiProblem(0)` when no answer came; `LoginRequired` passes through.
 */
export async function answered<T>(call: Answer<T>): Promise<T> {
  try {
    return await unwrap(call);
  } catch (error) {
    if (error instanceof ApiProblem || (error as Error).name === 'LoginRequired') throw error;
    throw new ApiProblem(0, undefined); // no answer: offline or the server unreachable
  }
}

export function login(client: ApiClient, username: string, password: string): Promise<TokenResponse> {
  return unwrap(client.POST('/api/v1/auth/login', { body: { username, password } }));
}

export function pull(
  client: ApiClient,
  query: PullQuery = {},
): Promise<PullResponse> {
  return unwrap(client.GET('/api/v1/sync/pull', { params: { query } }));
}

export function push(client: ApiClient, body: PushRequest): Promise<PushResponse> {
  return unwrap(client.POST('/api/v1/sync/push', { body }));
}

import { describe, expect, it } from 'vitest';
import { ApiProblem, apiClient, login, pull } from './client';

function recorder(respond: (request: Request) => Response) {
  const seen: Request[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    seen.push(request.clone());
    return respond(request);
  };
  return { seen, fetch: fetch as typeof globalThis.fetch };
}

const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });

describe('api client', () => {
  it('logs in with a JSON body on the contract path', async () => {
    const { seen, fetch } = recorder(() =>
      json({
        access_token: 'a',
        refresh_token: 'r',
        token_type: 'Bearer',
        expires_in: 900,
        user: { id: 'u', username: 'tinhnguyen.phuloc', role: 'volunteer' },
      }),
    );
    const client = apiClient({ baseUrl: 'http://api.test', fetch });
    const tokens = await login(client, 'tinhnguyen.phuloc', 'TungNha@2026');
    expect(tokens.access_token).toBe('a');
    expect(seen[0].method).toBe('POST');
    expect(new URL(seen[0].url).pathname).toBe('/api/v1/auth/login');
    expect(await seen[0].json()).toEqual({ username: 'tinhnguyen.phuloc', password: 'TungNha@2026' });
  });

  it('sends the current token and the cursor when pulling', async () => {
    let token = 'first';
    const { seen, fetch } = recorder(() => json({ changes: [], cursor: 'c2', has_more: false }));
    const client = apiClient({ baseUrl: 'http://api.test', fetch, token: () => token });
    await pull(client, { cursor: 'c1', limit: 500 });
    token = 'second';
    const page = await pull(client);
    expect(page.cursor).toBe('c2');
    expect(seen[0].headers.get('authorization')).toBe('Bearer first');
    expect(seen[1].headers.get('authorization')).toBe('Bearer second');
    const url = new URL(seen[0].url);
    expect(url.pathname).toBe('/api/v1/sync/pull');
    expect(url.searchParams.get('cursor')).toBe('c1');
    expect(url.searchParams.get('limit')).toBe('500');
  });

  it('turns a problem+json answer into an ApiProblem with its code', async () => {
    const { fetch } = recorder(() =>
      json(
        { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'Sai mật khẩu.', code: 'invalid_credentials' },
        401,
        'application/problem+json',
      ),
    );
    const client = apiClient({ baseUrl: 'http://api.test', fetch });
    const err = await login(client, 'x', 'y').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    expect((err as ApiProblem).status).toBe(401);
    expect((err as ApiProblem).code).toBe('invalid_credentials');
    expect((err as ApiProblem).message).toBe('Sai mật khẩu.');
  });
});

import { get } from 'svelte/store';
import { describe, expect, it, vi } from 'vitest';
import { ApiProblem } from './api/client';

// The admin module's calls go through the field session; none is made here.
vi.mock('./field', () => ({ session: { authFetch: (...args: Parameters<typeof fetch>) => fetch(...args) } }));

const admin = await import('./admin');
type AuditEvent = import('./admin').AuditEvent;

const problem = (status: number, code: string, errors: { field: string; code: string; message: string }[] = []) =>
  new ApiProblem(status, { type: 'about:blank', title: '', status, detail: '', code, errors });

describe('field problems of a validation failure', () => {
  it('are keyed by the top-level field, first problem first, translated when the code is known', () => {
    const p = admin.fieldProblems(
      problem(400, 'validation_failed', [
        { field: 'username', code: 'invalid_characters', message: 'letters only' },
        { field: 'village_ids[1]', code: 'village_of_another_commune', message: 'another commune' },
        { field: 'village_ids[2]', code: 'unknown_village', message: 'no such village' },
        { field: 'password', code: 'weird_new_code', message: 'the server says why' },
      ]),
    );
    expect(p.username).toEqual({ key: 'admin.fieldError.invalid_characters', text: 'letters only' });
    expect(p.village_ids.key).toBe('admin.fieldError.village_of_another_commune');
    expect(p.password).toEqual({ key: undefined, text: 'the server says why' });
  });

  it('are none for an answer without field errors or no answer at all', () => {
    expect(admin.fieldProblems(problem(409, 'username_taken'))).toEqual({});
    expect(admin.fieldProblems(new Error('network'))).toEqual({});
  });

  it('have Vietnamese text for every code the screens translate', () => {
    const t = get(admin.t);
    const p = admin.fieldProblems(problem(400, 'validation_failed', [{ field: 'password', code: 'too_short', message: 'x' }]));
    expect(t(p.password.key!)).toBe('Quá ngắn.');
  });
});

describe('the message of a failed call', () => {
  it('names known problem codes, else goes by status', () => {
    expect(admin.problemKey(problem(409, 'username_taken'))).toBe('admin.problem.username_taken');
    expect(admin.problemKey(problem(412, 'edit_conflict'))).toBe('admin.problem.edit_conflict');
    expect(admin.problemKey(problem(403, 'role_required'))).toBe('admin.problem.forbidden');
    expect(admin.problemKey(problem(404, 'user_not_found'))).toBe('admin.problem.notFound');
    expect(admin.problemKey(problem(500, 'internal'))).toBe('admin.problem.other');
    expect(admin.problemKey(new ApiProblem(0, undefined))).toBe('admin.problem.offline');
  });
});

describe('audit filters and labels', () => {
  it('turn Vietnamese calendar days into UTC bounds that include the whole last day', () => {
    expect(admin.dayStart('2026-11-25')).toBe('2026-11-24T17:00:00.000Z');
    expect(admin.dayAfter('2026-11-25')).toBe('2026-11-25T17:00:00.000Z');
  });

  it('name an object by what its details carry, else by the distinctive end of its id', () => {
    // `details` is any JSON object (typed as an empty one by the contract), or null when unreadable.
    const event = (details: unknown, object_id: string | null = null) =>
      ({ id: 1, occurred_at: '', actor_label: 'quantri', action: 'user_created', details, object_id }) as AuditEvent;
    expect(admin.auditTarget(event({ username: 'lan.nt' }))).toBe('lan.nt');
    expect(admin.auditTarget(event({}, '01a211a7-0000-7000-8000-00000000abcd'))).toBe('…0000abcd');
    expect(admin.auditTarget(event(null))).toBe('');
  });

  it('label known actions and leave others as they are', () => {
    expect(admin.actionKey('user_created')).toBe('admin.action.user_created');
    expect(admin.actionKey('something_new')).toBeNull();
  });
});

describe('a suggested password', () => {
  it('is 12 characters without look-alikes, and long enough for the server', () => {
    const p = admin.suggestPassword();
    expect(p).toHaveLength(12);
    expect(p).not.toMatch(/[0O1lI]/);
    expect(admin.suggestPassword((n) => new Uint8Array(n).fill(0))).toBe('aaaaaaaaaaaa');
  });
});

describe('account shapes', () => {
  it('tie every role but admin and city to a commune, and only village roles to villages', () => {
    expect(admin.ROLES.filter(admin.communeRole)).toEqual(['chairman', 'department', 'village_leader', 'volunteer']);
    expect(admin.ROLES.filter(admin.villageRole)).toEqual(['village_leader', 'volunteer']);
  });
});

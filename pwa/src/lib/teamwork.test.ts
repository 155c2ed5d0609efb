import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ApiProblem } from './api/client';
import {
  attendanceEntries,
  exportFile,
  isActive,
  leavingDay,
  managesTraining,
  ownOrganiser,
  problemText,
  syncByUser,
  yearOf,
  type Device,
  type Key,
} from './teamwork';
import vi from './i18n/teamwork.vi.json';

const device = (over: Partial<Device>): Device => ({
  device_id: 'd1',
  user_id: 'u1',
  username: 'tinhnguyen',
  display_name: 'Tình nguyện',
  first_seen_at: '2026-11-01T00:00:00Z',
  records_applied: 0,
  records_rejected: 0,
  ...over,
});

/** A translator over the Vietnamese file, as i18next answers: the key itself when missing. */
function translate(key: Key, options: Record<string, string | number> = {}): string {
  let node: unknown = vi;
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'string') return key;
  return node.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(options[name] ?? ''));
}

describe('members', () => {
  it('are active from their first day until their last', () => {
    const m = { active_from: '2026-10-01', active_until: null };
    expect(isActive(m, '2026-09-30')).toBe(false);
    expect(isActive(m, '2026-10-01')).toBe(true);
    expect(isActive({ ...m, active_until: '2026-11-25' }, '2026-11-25')).toBe(true);
    expect(isActive({ ...m, active_until: '2026-11-24' }, '2026-11-25')).toBe(false);
  });

  it('leave with yesterday as their last day, never before their first', () => {
    expect(leavingDay({ active_from: '2026-10-01' }, '2026-11-25')).toBe('2026-11-24');
    expect(leavingDay({ active_from: '2026-03-01' }, '2026-03-01')).toBe('2026-03-01');
    expect(leavingDay({ active_from: '2026-12-01' }, '2026-11-25')).toBe('2026-12-01');
  });
});

describe('sync by user', () => {
  it("keeps each user's latest upload or download over their devices", () => {
    const map = syncByUser([
      device({ device_id: 'a', last_push_at: '2026-11-20T01:00:00Z', last_error: 'stale' }),
      device({ device_id: 'b', last_pull_at: '2026-11-24T03:00:00Z', last_push_at: '2026-11-24T02:00:00Z' }),
      device({ device_id: 'c', user_id: 'u2' }),
    ]);
    expect(map.get('u1')).toEqual({ at: '2026-11-24T03:00:00Z', devices: 2, lastError: null });
    expect(map.get('u2')).toEqual({ at: null, devices: 1, lastError: null });
    expect(map.has('u3')).toBe(false);
  });
});

describe('attendance', () => {
  it('sends the ticked as present and the unticked among those recorded present as absent', () => {
    const recorded = new Map([
      ['a', true],
      ['b', true],
      ['c', false],
    ]);
    const entries = attendanceEntries(recorded, new Set(['a', 'd']));
    expect(entries).toEqual([
      { member_id: 'a', attended: true },
      { member_id: 'd', attended: true },
      { member_id: 'b', attended: false },
    ]);
  });

  it('sends nothing for members never recorded and not ticked', () => {
    expect(attendanceEntries(new Map(), new Set())).toEqual([]);
  });
});

describe('trainings', () => {
  it('are managed by the organiser, the culture-social office, the chairman and administrators', () => {
    const police = { organiser: 'police' };
    expect(managesTraining({ role: 'chairman' }, police)).toBe(true);
    expect(managesTraining({ role: 'admin' }, police)).toBe(true);
    expect(managesTraining({ role: 'department', department: 'culture_social' }, police)).toBe(true);
    expect(managesTraining({ role: 'department', department: 'police' }, police)).toBe(true);
    expect(managesTraining({ role: 'department', department: 'health' }, police)).toBe(false);
    expect(managesTraining({ role: 'village_leader' }, police)).toBe(false);
    expect(managesTraining(null, police)).toBe(false);
  });

  it('are organised as the own department or as the chairman', () => {
    expect(ownOrganiser({ role: 'chairman' })).toBe('chairman');
    expect(ownOrganiser({ role: 'department', department: 'health' })).toBe('health');
    expect(ownOrganiser({ role: 'volunteer' })).toBe(null);
  });

  it('export the chosen dates in the chosen format', () => {
    expect(exportFile('xlsx', '2026-01-01', '2026-12-31')).toEqual({
      path: '/api/v1/exports/trainings?format=xlsx&from=2026-01-01&to=2026-12-31',
      filename: 'tap-huan-2026-01-01-2026-12-31.xlsx',
    });
    expect(yearOf('2026-11-25')).toEqual({ from: '2026-01-01', to: '2026-12-31' });
  });
});

describe('problems', () => {
  it('say when there was no answer, name known codes and the invalid fields', () => {
    expect(problemText(new ApiProblem(0, undefined), translate)).toBe(vi.teams.offline);
    const base = { type: 'about:blank', title: 'x', detail: 'x' };
    expect(problemText(new ApiProblem(403, { ...base, status: 403, code: 'role_not_allowed' }), translate)).toBe(
      vi.teams.problem.role_not_allowed,
    );
    const invalid = new ApiProblem(400, {
      ...base,
      status: 400,
      code: 'validation_failed',
      errors: [
        { field: 'phone', code: 'invalid_phone', message: 'bad phone' },
        { field: 'held_on', code: 'weird', message: 'something else' },
      ],
    });
    expect(problemText(invalid, translate)).toBe(`phone: ${vi.teams.reason.invalid_phone} · held_on: something else`);
    expect(problemText(new ApiProblem(500, { ...base, status: 500, code: 'internal' }), translate)).toBe(
      'Không thực hiện được (lỗi 500: internal).',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { stillLacking, type HouseholdDetail } from './queries';
import type { Service } from './store/db';

const service = (code: string, level: string, min_age: number | null = null): Service => ({
  id: code,
  code,
  name_vi: code,
  name_en: code,
  level,
  min_age,
});
const catalogue = [service('vneid', 'person', 14), service('ehr', 'person'), service('cashless', 'household')];
const detail = (adoptions: [string | null, string, string][]): HouseholdDetail => ({
  household: { id: 'h', village_id: 'v', head_name: 'A', search: 'a' } as HouseholdDetail['household'],
  residents: [
    { id: 'adult', household_id: 'h', birth_year: 1980, search: '' },
    { id: 'child', household_id: 'h', birth_year: 2020, search: '' },
  ],
  adoptions: adoptions.map(([resident_id, service_code, status], i) => ({ id: String(i), household_id: 'h', resident_id, service_code, status })),
  visits: [],
});

describe('stillLacking', () => {
  it('offers what someone old enough has not done, and what the household has not', () => {
    expect([...stillLacking(catalogue, detail([]), [], 2026)].sort()).toEqual(['cashless', 'ehr', 'vneid']);
  });

  it('drops a service everybody eligible has done; a child is not eligible for VNeID', () => {
    const d = detail([['adult', 'vneid', 'done'], [null, 'cashless', 'done']]);
    expect([...stillLacking(catalogue, d, [], 2026)]).toEqual(['ehr']);
  });

  it('follows the ticked residents: the child alone lacks nothing age-limited', () => {
    const d = detail([['child', 'ehr', 'not_applicable']]);
    expect([...stillLacking(catalogue, d, ['child'], 2026)].sort()).toEqual(['cashless']);
    expect([...stillLacking(catalogue, d, ['adult'], 2026)].sort()).toEqual(['cashless', 'ehr', 'vneid']);
  });

  it('counts an assisted or declined service as still lacking', () => {
    const d = detail([['adult', 'vneid', 'assisted'], ['adult', 'ehr', 'declined'], ['child', 'ehr', 'done']]);
    expect([...stillLacking(catalogue, d, ['adult'], 2026)].sort()).toEqual(['cashless', 'ehr', 'vneid']);
  });
});

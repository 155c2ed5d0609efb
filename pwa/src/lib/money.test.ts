import { describe, expect, it } from 'vitest';
import { formatDong, MAX_DONG, parseDong } from './money';

describe('parseDong', () => {
  it('reads whole đồng typed plainly or grouped by thousands', () => {
    expect(parseDong('15000000')).toBe(15_000_000);
    expect(parseDong('15.000.000')).toBe(15_000_000);
    expect(parseDong(' 7 500 001 ')).toBe(7_500_001);
    expect(parseDong('1')).toBe(1);
    expect(parseDong('1.000.000.000.000')).toBe(MAX_DONG);
  });

  it('refuses fractions, signs, zero, bad grouping and amounts over the limit', () => {
    for (const bad of ['', '0', '15,5', '15.5', '1.50', '-100', '+100', '1e6', 'mười', '1.000.000.000.001', '12..000']) {
      expect(parseDong(bad), bad).toBeNull();
    }
  });
});

describe('formatDong', () => {
  it('groups thousands the way each language writes them', () => {
    expect(formatDong(22_500_001, 'vi')).toBe('22.500.001 đ');
    expect(formatDong(22_500_001, 'en')).toBe('22,500,001 VND');
    expect(formatDong(-900_000, 'vi')).toBe('-900.000 đ');
  });
});

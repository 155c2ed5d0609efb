import { describe, expect, it } from 'vitest';
import { matches, normalise } from './text';

describe('search normalisation', () => {
  it('drops Vietnamese diacritics and maps đ to d', () => {
    expect(normalise('Nguyễn Văn Đức')).toBe('nguyen van duc');
    expect(normalise('  Thôn   Phú Lộc ')).toBe('thon phu loc');
    expect(normalise('ĐẶNG THỊ HƯỜNG')).toBe('dang thi huong');
  });

  it('treats composed and decomposed input alike', () => {
    expect(normalise('Nguye\u0302\u0303n')).toBe(normalise('Nguyễn'));
  });

  it('matches every word of the query, in any order, with or without marks', () => {
    const key = normalise('Nguyễn Văn Đức 12 ngõ 3');
    expect(matches(key, 'duc nguyen')).toBe(true);
    expect(matches(key, 'Đức')).toBe(true);
    expect(matches(key, 'ngo 3')).toBe(true);
    expect(matches(key, 'duc hoa')).toBe(false);
    expect(matches(key, '')).toBe(true);
  });
});

import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LANGUAGE, isLanguage, language, savedLanguage, setLanguage, t } from './index';

describe('i18n runtime', () => {
  it('defaults to Vietnamese when nothing is saved', () => {
    expect(DEFAULT_LANGUAGE).toBe('vi');
    expect(savedLanguage()).toBe('vi');
    expect(get(language)).toBe('vi');
    expect(get(t)('app.subtitle')).toBe('Tổ Công nghệ số cộng đồng');
  });

  it('switches the `t` store with the language, loading English on demand', async () => {
    await setLanguage('en');
    expect(get(language)).toBe('en');
    expect(get(t)('status.offline')).toBe('Offline');
    await setLanguage('vi');
    expect(get(t)('status.offline')).toBe('Ngoại tuyến');
  });

  it('accepts only supported language codes', () => {
    expect(isLanguage('vi')).toBe(true);
    expect(isLanguage('en')).toBe(true);
    expect(isLanguage('fr')).toBe(false);
    expect(isLanguage(null)).toBe(false);
  });
});

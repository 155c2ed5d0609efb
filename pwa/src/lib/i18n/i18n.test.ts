import { describe, expect, it } from 'vitest';
import enCore from './en.json';
import viCore from './vi.json';

type Tree = { [key: string]: string | Tree };

// Every string file: the core ones (`vi.json`, `en.json`) and the lazily loaded ones of screen
// groups (`field.vi.json`, `office.en.json`, …), found by name so a new file is checked too.
const files = import.meta.glob<Tree>('./*.json', { import: 'default', eager: true });
const ofLanguage = (lang: 'vi' | 'en') =>
  Object.entries(files)
    .filter(([path]) => path === `./${lang}.json` || path.endsWith(`.${lang}.json`))
    .map(([path, tree]) => [path, tree] as const);
const viFiles = ofLanguage('vi');
const enFiles = ofLanguage('en');

// Every string file of a language, as the app ends up with them (the test below keeps their
// top-level sections apart, so this shallow merge loses nothing).
const vi = Object.assign({}, ...viFiles.map(([, tree]) => tree)) as typeof viCore;
const en = Object.assign({}, ...enFiles.map(([, tree]) => tree)) as typeof enCore;

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

const viStrings = flatten(vi);
const enStrings = flatten(en);

// Letters that exist only in Vietnamese orthography (precomposed, as the JSON files must be).
const VIETNAMESE_MARKS = /[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]/i;

describe('translations', () => {
  it('keep each string file in top-level sections of its own, the same files in both languages', () => {
    expect(viFiles.length).toBeGreaterThanOrEqual(3);
    expect(enFiles.map(([p]) => p.replace('en.json', '')).sort()).toEqual(viFiles.map(([p]) => p.replace('vi.json', '')).sort());
    for (const list of [viFiles, enFiles]) {
      for (const [i, [a, ta]] of list.entries()) {
        for (const [b, tb] of list.slice(i + 1)) {
          const shared = Object.keys(ta).filter((k) => k in tb);
          expect(shared, `${a} and ${b}`).toEqual([]);
        }
      }
    }
  });

  it('have the same keys in Vietnamese and English', () => {
    expect([...enStrings.keys()].sort()).toEqual([...viStrings.keys()].sort());
  });

  it('have no empty or whitespace-only strings', () => {
    for (const [lang, strings] of [['vi', viStrings], ['en', enStrings]] as const) {
      for (const [key, value] of strings) {
        expect(value.trim(), `${lang}:${key}`).not.toBe('');
      }
    }
  });

  it('keep the interpolation placeholders of each string', () => {
    const placeholders = (s: string) => (s.match(/\{\{[^}]+\}\}/g) ?? []).sort();
    for (const [key, value] of viStrings) {
      expect(placeholders(enStrings.get(key) ?? ''), key).toEqual(placeholders(value));
    }
  });

  it('write Vietnamese with its diacritics', () => {
    expect(vi.app.name).toBe('Từng Nhà');
    expect(vi.app.subtitle).toBe('Tổ Công nghệ số cộng đồng');
    expect(vi.status.online).toBe('Trực tuyến');
    expect(vi.status.offline).toBe('Ngoại tuyến');
    expect(vi.pwa.updateAvailable).toBe('Có phiên bản mới');
    expect(vi.pwa.update).toBe('Cập nhật');
    // Every Vietnamese sentence of more than two words has at least one diacritic; a string without
    // any is almost certainly English left behind or text typed without a Vietnamese keyboard.
    for (const [key, value] of viStrings) {
      if (key === 'language.en') continue; // the name of English, written in English on purpose
      if (value.split(/\s+/).length > 2) expect(value, key).toMatch(VIETNAMESE_MARKS);
    }
  });

  it('store Vietnamese text in NFC, so search and comparison behave', () => {
    for (const [key, value] of viStrings) expect(value, key).toBe(value.normalize('NFC'));
  });

  it('keep the brand name untranslated in English', () => {
    expect(en.app.name).toBe('Từng Nhà');
  });
});

describe('keys used in the code', () => {
  it('all exist in the translations (plural keys by their _other form)', () => {
    const sources = import.meta.glob<string>(['../../**/*.{ts,svelte}', '!../../**/*.test.ts', '!../../**/*.d.ts'], {
      query: '?raw',
      import: 'default',
      eager: true,
    });
    const used = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const m of text.matchAll(/\$t\(\s*'([a-zA-Z][\w.]*)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((k) => !viStrings.has(k) && !viStrings.has(`${k}_other`));
    expect(missing).toEqual([]);
  });
});

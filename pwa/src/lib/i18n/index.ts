/**
 * UI strings. Library: i18next — actively maintained, framework-agnostic, no runtime
 * dependencies, typed keys (a typo in a key fails `npm run check`), plurals and interpolation when
 * we need them; about 14 KiB gzipped, well inside the 80 KiB first-screen budget. svelte-i18n was
 * the alternative; it brings intl-messageformat and its ICU parser, which is larger for no gain here.
 *
 * Vietnamese is the default whatever the browser says; an explicit choice is kept in localStorage.
 * Svelte components read `$t` (re-evaluated when the language changes) and `$language`.
 */
import i18next, { type TFunction } from 'i18next';
import { derived, writable, type Readable } from 'svelte/store';
import vi from './vi.json';

export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'vi';
export const STORAGE_KEY = 'tungnha.language';

/**
 * Vietnamese is bundled (the first screen needs it); English is a separate chunk loaded when
 * chosen (precached by the service worker, so it works offline too).
 */
export const resources = {
  vi: { translation: vi },
} as const;

/**
 * Strings of screens loaded on demand (the office side) live in their own files, added when those
 * screens load; keys are typed as if all were bundled.
 */
type Bundled = (typeof resources)['vi'];
type OfficeStrings = typeof import('./office.vi.json');
type FieldStrings = typeof import('./field.vi.json');
type AdminStrings = typeof import('./admin.vi.json');
type TeamworkStrings = typeof import('./teamwork.vi.json');
type CommunityStrings = typeof import('./community.vi.json');

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: {
      translation: Bundled['translation'] &
        FieldStrings &
        OfficeStrings &
        AdminStrings &
        TeamworkStrings &
        CommunityStrings;
    };
  }
}

/** Dotted paths of the leaves of a string tree (`admin.accounts.title`, …), for typed keys. */
export type KeysOf<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : KeysOf<T[K], `${P}${K}.`>;
}[keyof T & string];

type Tree = Record<string, unknown>;
const extras: Record<Language, () => Promise<Tree>>[] = [];

/** Adds a lazily loaded set of strings in the current language now, and in any language chosen later. */
export async function addStrings(loaders: Record<Language, () => Promise<Tree>>): Promise<void> {
  extras.push(loaders);
  const lng = i18n.language as Language;
  i18n.addResourceBundle(lng, 'translation', await loaders[lng](), true, true);
  revision.update((n) => n + 1); // re-render with the new keys
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    // Access can throw (storage disabled, some private modes).
    return undefined;
  }
}

export function savedLanguage(): Language {
  const value = storage()?.getItem(STORAGE_KEY);
  return isLanguage(value) ? value : DEFAULT_LANGUAGE;
}

const i18n = i18next.createInstance();
void i18n.init({
  lng: DEFAULT_LANGUAGE,
  fallbackLng: DEFAULT_LANGUAGE,
  supportedLngs: [...LANGUAGES],
  resources,
  initAsync: false, // resources are bundled: initialise synchronously so the first render has text
  interpolation: { escapeValue: false }, // Svelte escapes on output
  returnNull: false,
});

export const language = writable<Language>(i18n.language as Language);

/**
 * `$t('home.title')` in components; the store's value changes when the language does. The explicit
 * type is needed: a derived callback returning a function otherwise matches the overload whose
 * return value is a cleanup function, and `$t` would be `unknown`.
 */
const revision = writable(0);
export const t: Readable<TFunction> = derived([language, revision], ([lng]) => i18n.getFixedT(lng));

function applyToDocument(lng: Language): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = lng;
  document.title = i18n.t('app.name', { lng });
}

async function load(lng: Language): Promise<void> {
  if (lng === 'en' && !i18n.hasResourceBundle('en', 'translation')) {
    const en = (await import('./en.json')).default;
    i18n.addResourceBundle('en', 'translation', en, true, true);
  }
  for (const loaders of extras) i18n.addResourceBundle(lng, 'translation', await loaders[lng](), true, true);
}

export async function setLanguage(lng: Language): Promise<void> {
  await load(lng);
  await i18n.changeLanguage(lng);
  try {
    storage()?.setItem(STORAGE_KEY, lng);
  } catch {
    // Quota or disabled storage: the choice lasts for this session only.
  }
  applyToDocument(lng);
  language.set(lng);
}

applyToDocument(DEFAULT_LANGUAGE);
/** Resolves once the saved language is loaded (at once for Vietnamese). */
export const ready: Promise<void> = savedLanguage() === DEFAULT_LANGUAGE ? Promise.resolve() : setLanguage(savedLanguage());

export interface Formatters {
  /** A time (ms or ISO string) as a Vietnamese-time date and hour. */
  dateTime(value: number | string): string;
  /** A date (`YYYY-MM-DD`) or a time, as a date. */
  date(value: number | string): string;
  time(value: number | string): string;
  number(value: number): string;
}

/** Dates in Asia/Ho_Chi_Minh and the language's own formats (25/11/2026, 1.234). */
export function formatters(lng: Language): Formatters {
  const locale = lng === 'vi' ? 'vi-VN' : 'en-GB';
  const timeZone = 'Asia/Ho_Chi_Minh';
  const dt = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short', timeZone });
  const d = new Intl.DateTimeFormat(locale, { day: '2-digit', month: '2-digit', year: 'numeric', timeZone });
  const tm = new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone });
  const n = new Intl.NumberFormat(locale);
  const toDate = (v: number | string) =>
    typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T12:00:00+07:00`) : new Date(v);
  return {
    dateTime: (v) => dt.format(toDate(v)),
    date: (v) => d.format(toDate(v)),
    time: (v) => tm.format(toDate(v)),
    number: (v) => n.format(v),
  };
}

export const fmt: Readable<Formatters> = derived(language, formatters);

/** Today's date in Vietnam (`YYYY-MM-DD`), whatever the phone's time zone. */
export function localToday(now: number = Date.now()): string {
  return new Date(now + 7 * 3600_000).toISOString().slice(0, 10);
}

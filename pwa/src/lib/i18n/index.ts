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
import en from './en.json';
import vi from './vi.json';

export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'vi';
export const STORAGE_KEY = 'tungnha.language';

export const resources = {
  vi: { translation: vi },
  en: { translation: en },
} as const;

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: (typeof resources)['vi'];
  }
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
  lng: savedLanguage(),
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
export const t: Readable<TFunction> = derived(language, (lng) => i18n.getFixedT(lng));

function applyToDocument(lng: Language): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = lng;
  document.title = i18n.t('app.name', { lng });
}

export function setLanguage(lng: Language): void {
  void i18n.changeLanguage(lng);
  try {
    storage()?.setItem(STORAGE_KEY, lng);
  } catch {
    // Quota or disabled storage: the choice lasts for this session only.
  }
  applyToDocument(lng);
  language.set(lng);
}

applyToDocument(i18n.language as Language);

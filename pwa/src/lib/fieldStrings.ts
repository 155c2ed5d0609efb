/**
 * The strings of the field screens past the first one (households, visits, outbox, guides…), loaded
 * with those screens so the first screen's JavaScript stays small; every lazy field screen imports
 * this module.
 */
import { addStrings } from './i18n';

await addStrings({
  vi: async () => (await import('./i18n/field.vi.json')).default,
  en: async () => (await import('./i18n/field.en.json')).default,
});

/** A server refusal's code as a sentence in the user's language (`error.<code>`), never its English text. */
export function refusalText(translate: (key: 'error.other', options?: Record<string, string>) => string, code: string): string {
  const key = `error.${code}`;
  const text = translate(key as 'error.other', { code });
  return text === key ? translate('error.other', { code }) : text;
}

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

/**
 * Search normalisation: volunteers type without diacritics ("nguyen van duc") on cheap keyboards,
 * and the registry stores full Vietnamese ("Nguyễn Văn Đức"). NFD splits each letter from its
 * marks; the marks are dropped. `đ` is a letter of its own, not d plus a mark, so it is mapped by hand.
 */
export function normalise(text: string | null | undefined): string {
  if (!text) return '';
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when every word of the query starts a word of, or appears inside, the normalised text. */
export function matches(haystack: string, query: string): boolean {
  const words = normalise(query).split(' ').filter(Boolean);
  return words.every((w) => haystack.includes(w));
}

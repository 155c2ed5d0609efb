/**
 * Amounts of money are whole đồng (DESIGN: never floats or fractions). People type them the
 * Vietnamese way, with dots or spaces between thousands: "15.000.000".
 */

/** The largest amount one funding entry may carry (the API's limit). */
export const MAX_DONG = 1_000_000_000_000;

/**
 * The whole number of đồng a person typed, or `null` when it is not one: empty, a fraction
 * ("15,5"), a sign, letters, zero, or above {@link MAX_DONG}. Dots and spaces may group thousands
 * only in threes ("1.500" yes, "1.50" no).
 */
export function parseDong(text: string): number | null {
  const s = text.trim();
  if (!/^\d{1,3}([. \u00a0]?\d{3})*$/.test(s) && !/^\d+$/.test(s)) return null;
  const n = Number(s.replace(/[. \u00a0]/g, ''));
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_DONG) return null;
  return n;
}

/** "15.000.000 đ" (Vietnamese) or "15,000,000 VND" (English). */
export function formatDong(amount: number, language: string): string {
  const digits = new Intl.NumberFormat(language === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 0 }).format(amount);
  return language === 'vi' ? `${digits} đ` : `${digits} VND`;
}

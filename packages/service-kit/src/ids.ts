/**
 * Entity ids are Postgres integers in the databases and opaque ID strings in the API.
 * Anything that is not a positive int4 cannot name a row, so it is "not found", not an error.
 */
export function parseIntId(id: unknown): number | null {
  const text = String(id);
  if (!/^[1-9]\d{0,9}$/.test(text)) return null;
  const value = Number(text);
  return value <= 2_147_483_647 ? value : null;
}

/**
 * Whether a parsed JSON value nests objects and arrays more than `limit` levels deep (`{}` and
 * `[]` are one level, scalars none). Iterative and stopping at the first value past the limit:
 * the values it guards against (100,000 levels fit in a 1 MiB body; V8's JSON.parse reads them
 * without recursing) would overflow the stack of any recursive walk, JSON.stringify's included.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > limit) return true;
    for (const child of Array.isArray(item.value) ? item.value : Object.values(item.value)) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth });
    }
  }
  return false;
}

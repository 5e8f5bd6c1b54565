/**
 * Apollo's `deepMerge` (how a fetch's answer joins the data merged so far), with the same rules:
 * an undefined value is skipped; an object merges into a truthy value there; lists of the same
 * length merge element by element (objects into objects, anything else replaced); anything else
 * replaces. Keys are own properties only, so a subgraph's `__proto__` stays a plain key.
 */

type Data = Record<string, unknown>;
const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key);

const isObject = (value: unknown): value is Data => typeof value === 'object' && value !== null && !Array.isArray(value);

export function deepMerge(target: Data, source: unknown): void {
  if (source === undefined || source === null) return;
  const from = source as Data;
  // for-in, not Object.keys: no array per merged object (the own-key check keeps Apollo's Object.keys semantics).
  for (const key in from) {
    if (!hasOwn(from, key)) continue;
    const value = from[key];
    if (value === undefined) continue;
    let existing = target[key];
    // A key that only the prototype has (`constructor`, `__proto__`) becomes the target's own first.
    if (existing !== undefined && !hasOwn(target, key)) {
      Object.defineProperty(target, key, { configurable: true, enumerable: true, value: undefined, writable: true });
      existing = undefined;
    }
    if (existing && isObject(value)) {
      deepMerge(existing as Data, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i++) {
        const into = existing[i] as unknown;
        const element = value[i] as unknown;
        if (isObject(into) && isObject(element)) deepMerge(into, element);
        else existing[i] = element;
      }
    } else {
      target[key] = value;
    }
  }
}

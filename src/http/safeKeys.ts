/**
 * Untrusted keys (issue 14): a key taken from user input (a JSON body, a dotted text key of the script editor, a file
 * an admin uploads, a webhook payload) that is `__proto__`, `constructor` or `prototype` could reach Object.prototype
 * when assigned or merged. They are refused at the edges (HTTP 422 naming the field); objects built from user keys
 * have no prototype (safeRecord).
 */

export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** True when `key`, or one of its dot-separated segments, is a reserved key. */
export function isUnsafeKey(key: string): boolean {
  if (RESERVED_KEYS.has(key)) return true;
  return key.includes('.') && key.split('.').some((segment) => RESERVED_KEYS.has(segment));
}

/** Path (`a.b.0.__proto__`) of the first reserved key anywhere in a parsed JSON value, or undefined. Iterative, any depth. */
export function unsafeKeyPath(value: unknown, prefix = ''): string | undefined {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: prefix }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (!v || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    // Own keys only, __proto__ included (JSON.parse creates it as an own property).
    for (const key of Object.keys(v)) {
      const at = path ? `${path}.${key}` : key;
      if (!Array.isArray(v) && isUnsafeKey(key)) return at;
      stack.push({ v: (v as Record<string, unknown>)[key], path: at });
    }
  }
  return undefined;
}

export class UnsafeKeyError extends Error {
  constructor(readonly field: string) {
    super(`${field}: the keys __proto__, constructor and prototype are not allowed`);
    this.name = 'UnsafeKeyError';
  }
}

/** Throws an UnsafeKeyError naming the field when `value` holds a reserved key. */
export function assertSafeKeys(value: unknown, prefix = ''): void {
  const at = unsafeKeyPath(value, prefix);
  if (at !== undefined) throw new UnsafeKeyError(at);
}

/** Throws an UnsafeKeyError naming `field` when the dotted key path `key` has a reserved segment. */
export function assertSafeKeyPath(key: string, field: string): void {
  if (isUnsafeKey(key)) throw new UnsafeKeyError(field);
}

/** An empty object without prototype, for objects whose keys come from users. */
export function safeRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The JSON error body of a refused key: 422 with the field. */
export function unsafeKeyBody(field: string): { error: string; message: string; field: string } {
  return { error: 'unsafe_key', message: new UnsafeKeyError(field).message, field };
}

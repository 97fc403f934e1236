// Test helpers for promises: let every queued microtask run, and watch a promise without awaiting it.

/** Resolves after every microtask queued so far (and those they queue) has run. No time passes. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface Tracked<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

/** Observes a promise's outcome synchronously (after a flush) without awaiting it. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const t = { promise, settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (v) => {
      t.settled = true;
      t.value = v;
    },
    (e: unknown) => {
      t.settled = true;
      t.error = e;
    },
  );
  return t;
}

/** A small seeded PRNG (mulberry32) so that randomised tests replay exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

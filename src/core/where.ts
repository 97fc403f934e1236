// Conditional wakes: a compiled filter on what a change leaves behind, evaluated once per (filter, change).

import type { Json, JsonObject, SwitchboardEvent } from "./types.js";

/** What a filter sees of a change: the register a write leaves behind; only the name for anything else. */
export interface WhereDoc {
  readonly name: string;
  readonly value?: Json;
  readonly metadata?: JsonObject;
}

/**
 * A filter compiled outside the core (the core knows no query language). `key` names the filter
 * (its canonical JSON): two predicates with the same key must answer alike, so one evaluation of
 * a change serves every waiter and stream that uses the filter.
 */
export interface Where {
  readonly key: string;
  test(doc: WhereDoc): boolean;
}

/** The document a filter is evaluated on: set → {name, value, metadata}; delete, expire, request, ack → {name}. */
export function whereDoc(e: SwitchboardEvent): WhereDoc {
  return e.type === "set" ? { name: e.name, value: e.register.value, metadata: e.register.metadata } : { name: e.name };
}

/**
 * Remembers each filter's verdict on each event, next to the event itself (a WeakMap: the memo
 * goes when the event ring drops the event), so a thousand waiters on one filter cost one
 * evaluation per change, and re-reading the ring after a wake costs none.
 */
export class WhereMemo {
  readonly #memo = new WeakMap<SwitchboardEvent, Map<string, boolean>>();
  #evaluations = 0;

  /** Filter evaluations made so far (each distinct filter once per change). */
  get evaluations(): number {
    return this.#evaluations;
  }

  matches(where: Where, e: SwitchboardEvent): boolean {
    let verdicts = this.#memo.get(e);
    const known = verdicts?.get(where.key);
    if (known !== undefined) return known;
    this.#evaluations++;
    let ok: boolean;
    try {
      ok = where.test(whereDoc(e)) === true;
    } catch {
      ok = false;
    }
    if (!verdicts) {
      verdicts = new Map();
      this.#memo.set(e, verdicts);
    }
    verdicts.set(where.key, ok);
    return ok;
  }
}

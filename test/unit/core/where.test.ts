// Conditional wakes (where): a poll wakes only for changes whose register matches, and one filter costs one evaluation per change.

import fc from "fast-check";
import { Query } from "mingo";
import { afterEach, describe, expect, it } from "vitest";
import { consumerPoll } from "../../../src/core/polls.js";
import type { Switchboard } from "../../../src/core/switchboard.js";
import type { Json, SwitchboardEvent } from "../../../src/core/types.js";
import { whereDoc } from "../../../src/core/where.js";
import { WhereFilters } from "../../../src/services/filters.js";
import { flush, track } from "../../helpers/flush.js";
import { openBoard } from "./fixture.js";

const open: Switchboard[] = [];
async function board() {
  const b = await openBoard();
  open.push(b.sb);
  return b;
}
afterEach(async () => {
  for (const sb of open.splice(0)) await sb.close();
});

const opts = { waitMs: 30_000, random: () => 0 };
const NAMES = ["w/a", "w/b", "w/c"];
const FILTERS: Json[] = [
  { value: { $gt: 30 } },
  { "metadata.room": "x" },
  { name: "w/b" },
  { $or: [{ value: { $lt: 5 } }, { "metadata.room": "y", value: { $gte: 45 } }] },
  { value: { $exists: false } },
  { value: { $in: [1, 2, 3] }, name: { $regex: "^w/[ab]$" } },
];

type Op = { kind: "set"; name: string; value: number; room: string } | { kind: "delete"; name: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      name: fc.constantFrom(...NAMES),
      value: fc.integer({ min: 0, max: 50 }),
      room: fc.constantFrom("x", "y"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), name: fc.constantFrom(...NAMES) }) },
);

async function applyOp(sb: Switchboard, op: Op): Promise<void> {
  if (op.kind === "set") await sb.set([{ name: op.name, value: op.value, metadata: { room: op.room } }]);
  else await sb.delete([op.name]);
}

/** The reference: the filter evaluated directly (no shared compile, no memo) on what each change left behind. */
function oracle(filter: Json): (e: SwitchboardEvent) => boolean {
  const q = new Query(filter as Record<string, unknown>, {});
  return (e) => q.test(whereDoc(e) as unknown as Record<string, unknown>);
}

describe("consumerPoll with where", () => {
  it("a held poll wakes exactly on the changes the filter matches (property, against evaluating every change)", async () => {
    const totals = { wakes: 0, quiet: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FILTERS),
        fc.array(opArb, { minLength: 1, maxLength: 25 }),
        async (f, ops) => {
          const { sb, events } = await board();
          const where = new WhereFilters().compile(f);
          const matches = oracle(f);
          let wakes = 0;
          for (const op of ops) {
            const ac = new AbortController();
            const poll = track(consumerPoll(sb, { names: NAMES }, sb.revision, { ...opts, where, signal: ac.signal }));
            await flush();
            const before = events.length;
            await applyOp(sb, op);
            await flush();
            const expected = events.slice(before).some(matches);
            expect(poll.settled).toBe(expected);
            if (expected) {
              wakes++;
              expect(poll.value!.changedAt).toBeDefined();
            }
            ac.abort();
            await poll.promise;
          }
          // An index from the start answers at once only if some change since matched.
          const fromStart = track(consumerPoll(sb, { names: NAMES }, 0 + 1, { ...opts, where, waitMs: 1000 }));
          await flush();
          const anyAfterFirst = events.filter((e) => e.revision > 1).some(matches);
          if (sb.revision > 0) expect(fromStart.settled).toBe(anyAfterFirst);
          totals.wakes += wakes;
          totals.quiet += ops.length - wakes;
          await sb.close();
          await fromStart.promise;
        },
      ),
      { numRuns: 60, seed: 17 },
    );
    // The runs exercised both sides: polls that woke and polls a change left asleep.
    expect(totals.wakes).toBeGreaterThan(20);
    expect(totals.quiet).toBeGreaterThan(20);
  });

  it("an index behind answers only for matching changes, and removals are still reported", async () => {
    const { sb } = await board();
    const where = new WhereFilters().compile({ value: { $gt: 30 } });
    await sb.set([
      { name: "t/a", value: 40 },
      { name: "t/b", value: 1 },
    ]);
    const index = sb.revision;
    await sb.set([{ name: "t/b", value: 2 }]);
    await sb.delete(["t/a"]);
    const held = track(consumerPoll(sb, { prefixes: ["t/"] }, index, { ...opts, where }));
    await flush();
    expect(held.settled).toBe(false);
    await sb.set([{ name: "t/b", value: 31 }]);
    await flush();
    expect(held.settled).toBe(true);
    expect(held.value!.registers).toEqual([
      expect.objectContaining({ name: "t/b", found: true }),
      { name: "t/a", found: false },
    ]);
  });
});

describe("one evaluation per change", () => {
  it("1,000 waiters sharing one filter cost one evaluation per change, and the filter is compiled once", async () => {
    const { sb } = await board();
    const filters = new WhereFilters();
    await sb.set([{ name: "temp", value: 20 }]);
    const index = sb.revision;
    // The same filter, written with its keys in other orders, is one compiled filter.
    const texts = ['{"value":{"$gt":30,"$lt":100}}', '{"value":{"$lt":100,"$gt":30}}'];
    const polls = Array.from({ length: 1000 }, (_, i) =>
      track(consumerPoll(sb, { names: ["temp"] }, index, { ...opts, where: filters.parse(texts[i % 2]!) })),
    );
    const stream = sb.watch({ names: ["temp"], where: filters.parse(texts[0]!) });
    const streamed = stream.next();
    expect(filters.compilations).toBe(1);
    await flush();
    expect(sb.stats().waiters.consumer).toBe(1000);
    const start = sb.stats().whereEvaluations;
    await sb.set([{ name: "temp", value: 25 }]);
    await flush();
    expect(polls.filter((p) => p.settled)).toHaveLength(0);
    expect(sb.stats().whereEvaluations - start).toBe(1);
    await sb.set([{ name: "temp", value: 35 }]);
    // Wakes go out in chunks that yield to the event loop: every poll settles, none in error.
    await Promise.all(polls.map((p) => p.promise));
    expect(polls.filter((p) => p.settled && p.error === undefined)).toHaveLength(1000);
    expect((await streamed).value).toMatchObject({ type: "event", event: { name: "temp", revision: sb.revision } });
    // Two changes, two evaluations: not one per waiter, and re-reading the ring after the wake costs none.
    expect(sb.stats().whereEvaluations - start).toBe(2);
    for (const p of polls) expect(p.value!.registers[0]).toMatchObject({ found: true, register: { value: 35 } });
    await stream.return();
  });

  it("a stream with where replays and follows only matching events", async () => {
    const { sb } = await board();
    const where = new WhereFilters().compile({ "metadata.alarm": true });
    await sb.set([{ name: "s/1", value: 1, metadata: { alarm: true } }]);
    await sb.set([{ name: "s/2", value: 2 }]);
    const stream = sb.watch({ prefixes: ["s/"], after: 0, where });
    await sb.set([{ name: "s/3", value: 3, metadata: { alarm: true } }]);
    await sb.set([{ name: "s/4", value: 4 }]);
    const first = await stream.next();
    const second = await stream.next();
    expect([first.value, second.value].map((v) => (v as { event: SwitchboardEvent }).event.name)).toEqual([
      "s/1",
      "s/3",
    ]);
    expect(stream.buffered).toBe(0);
    await stream.return();
  });
});

describe("WhereFilters", () => {
  it("refuses operators outside the allow-list, bad JSON and non-objects with INVALID_FILTER", () => {
    const filters = new WhereFilters();
    for (const text of ['{"$where":"1"}', '{"value":{"$expr":1}}', "{", "[1]", '"x"', '{"name":{"$regex":"(a+)+$"}}']) {
      expect(() => filters.parse(text)).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
    }
    expect(filters.compilations).toBe(0);
  });
});

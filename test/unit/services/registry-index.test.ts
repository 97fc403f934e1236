// The registry query index against a full scan of the registers, through random creates, updates, deletes, raw writes, expiries and a restart.

import { describe, expect, it } from "vitest";
import { type JsonObject, Switchboard } from "../../../src/core/index.js";
import { REGISTRY_PREFIX, registryIdOf, toRegistryCoreData } from "../../../src/services/registry/index.js";
import { RegistryRecords } from "../../../src/services/registry/records.js";
import { createFilePersistence } from "../../../src/storage/file/index.js";
import { FakeClock } from "../../helpers/fake-clock.js";
import { makeTempDir } from "../../helpers/temp-dir.js";

/** A small seeded generator (mulberry32): every run replays the same operations. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, pick };
}

const IDS = Array.from({ length: 12 }, (_, i) => `r${i}`);
const TYPES = ["tool", "agent", "asset"];
const TAGS = ["AI", "vision", "compute", "demo", "gpu"];

/** What the index must answer, computed by reading every register. */
function scan(core: Switchboard) {
  const docs: JsonObject[] = [];
  for (const v of core.read({ prefixes: [REGISTRY_PREFIX] })) {
    if (v.found) docs.push(toRegistryCoreData(registryIdOf(v.name)!, v.register.value));
  }
  const sd = (d: JsonObject) => (d.registry_search_data ?? {}) as JsonObject;
  return {
    ids: docs.map((d) => d.registry_id),
    byType: (t: string) => docs.filter((d) => sd(d).registry_type === t).map((d) => d.registry_id),
    byTags: (tags: string[]) =>
      docs
        .filter((d) => {
          const own = sd(d).registry_search_tags;
          return Array.isArray(own) && own.some((x) => typeof x === "string" && tags.includes(x));
        })
        .map((d) => d.registry_id),
  };
}

function expectAgrees(core: Switchboard, records: RegistryRecords, r: ReturnType<typeof rng>) {
  const truth = scan(core);
  const ids = (a: { registries: JsonObject[] }) => a.registries.map((d) => d.registry_id);
  expect(records.index.all().map((x) => x.id)).toEqual(truth.ids);
  for (const t of [...TYPES, "none"]) {
    expect(ids(records.byType(t))).toEqual(truth.byType(t));
    expect(ids(JSON.parse(records.byTypeJson(t)))).toEqual(truth.byType(t));
    // The filter planner narrows to the type's bucket: same answer as mingo over everything.
    expect(ids(records.query({ filter: { "registry_search_data.registry_type": t }, limit: 1000 }))).toEqual(
      truth.byType(t),
    );
    expect(ids(records.query({ filter: { "registry_search_data.registry_type": { $eq: t } }, limit: 1000 }))).toEqual(
      truth.byType(t),
    );
  }
  const tags = TAGS.filter(() => r.next() < 0.4);
  expect(ids(records.byTags(tags))).toEqual(truth.byTags(tags));
  expect(ids(JSON.parse(records.byTagsJson(tags.length > 0 ? tags : ["AI"])))).toEqual(
    truth.byTags(tags.length > 0 ? tags : ["AI"]),
  );
  const one = r.pick(TAGS);
  expect(ids(JSON.parse(records.byTagsJson([one, one])))).toEqual(truth.byTags([one]));
  const someId = r.pick(IDS);
  expect(ids(records.query({ filter: { registry_id: someId }, limit: 10 }))).toEqual(
    truth.ids.filter((x) => x === someId),
  );
  for (const id of IDS) {
    const doc = records.find(id);
    const reg = core.get(`${REGISTRY_PREFIX}${id}`);
    expect(doc).toEqual(reg ? toRegistryCoreData(id, reg.value) : null);
  }
}

async function step(core: Switchboard, records: RegistryRecords, clock: FakeClock, r: ReturnType<typeof rng>) {
  const id = r.pick(IDS);
  const search = () => ({
    ...(r.next() < 0.8 ? { registry_type: r.pick(TYPES) } : {}),
    registry_search_tags: TAGS.filter(() => r.next() < 0.3),
  });
  const op = r.next();
  if (op < 0.3) await records.create({ registry_id: id, registry_search_data: search() }).catch(() => undefined);
  else if (op < 0.55) {
    const patch = r.next() < 0.5 ? { registry_search_data: search() } : { registry_url: `https://${id}.example` };
    await records.update({ registry_id: id, ...patch }).catch(() => undefined);
  } else if (op < 0.7) await records.delete(id).catch(() => undefined);
  else if (op < 0.8) {
    // A raw register write under registries/ that is no well-formed spec at all.
    const value = r.pick([
      null,
      "text",
      [1, 2],
      { registry_search_data: { registry_type: 5, registry_search_tags: "AI" } },
    ]);
    await core.set([{ name: `${REGISTRY_PREFIX}${id}`, value }]);
  } else if (op < 0.9) {
    await core.set([{ name: `${REGISTRY_PREFIX}${id}`, value: { registry_search_data: search() }, ttlMs: 1000 }]);
  } else {
    clock.advance(1500);
    await core.sweep();
  }
}

describe("the registry index", () => {
  it("always agrees with a full scan, before and after a restart", async () => {
    const dir = await makeTempDir();
    const clock = new FakeClock();
    const open = () =>
      Switchboard.open({ persistence: createFilePersistence({ dir: dir.path, durability: "relaxed" }), clock });
    const r = rng(12);
    try {
      let core = await open();
      let records = new RegistryRecords(core);
      let largest = 0;
      let typed = 0;
      for (let i = 0; i < 400; i++) {
        await step(core, records, clock, r);
        largest = Math.max(largest, records.index.size);
        typed = Math.max(typed, records.byType("tool").registries.length);
        if (i % 10 === 0) expectAgrees(core, records, r);
      }
      // The run exercised a populated index, not an empty one.
      expect(largest).toBeGreaterThan(6);
      expect(typed).toBeGreaterThan(1);
      expectAgrees(core, records, r);
      const before = records.index.all().map((x) => x.id);
      records.index.close();
      await core.close();

      core = await open();
      records = new RegistryRecords(core);
      expect(records.index.all().map((x) => x.id)).toEqual(before);
      for (let i = 0; i < 100; i++) {
        await step(core, records, clock, r);
        expectAgrees(core, records, r);
      }
      records.index.close();
      await core.close();
    } finally {
      await dir.cleanup();
    }
  });
});

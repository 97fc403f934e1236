// Epoch handling against a scripted server: a provider's watermark, received ids and registers after a reset.

import { describe, expect, it, vi } from "vitest";
import { SwitchboardClient } from "#client";
import { json, scriptedFetch, take } from "./helpers.js";

const URL_ = "http://switchboard.invalid";
const written = (epoch: string, version = 1) =>
  json(
    { index: 1, epoch, registers: [{ name: "dev", changed: true, version, modRevision: 1, expiresAt: null }] },
    200,
    { "x-switchboard-epoch": epoch },
  );
const polled = (epoch: string, ids: number[], extra: Record<string, unknown> = {}) =>
  json(
    {
      index: 9,
      epoch,
      ...extra,
      requests: ids.map((id) => ({ id, name: "dev", value: id, requestedAt: "2026-01-01T00:00:00.000Z" })),
    },
    200,
    { "x-switchboard-epoch": epoch },
  );

describe("epoch", () => {
  it("a provider forgets its watermark and received ids when the server's history changes, and re-creates", async () => {
    const { fetch, calls } = scriptedFetch({
      "PUT /provider": [written("A"), written("B")],
      "GET /provider": [polled("A", [700]), polled("B", [1, 2], { resync: true }), polled("B", [1, 2])],
    });
    const client = new SwitchboardClient({ url: URL_, fetch, debounceMs: 0 });
    const epochs: string[] = [];
    client.onEpochChange((e, prev) => epochs.push(`${prev}→${e}`));
    const p = client.provide("dev", "v", { metadata: { kind: "lamp" } });
    expect(await take(p.requests)).toMatchObject({ id: 700 });
    // Asking for the next one handles 700: the next poll acknowledges it, in history A.
    const next = p.requests.next();
    expect((await next).value).toMatchObject({ id: 1 }); // not skipped although 1 < 700
    expect(await take(p.requests)).toMatchObject({ id: 2 });
    const polls = calls.filter((c) => c.method === "GET").map((c) => c.url.searchParams);
    expect(polls[1]!.get("after")).toBe("700");
    expect(polls[1]!.get("epoch")).toBe("A");
    expect(epochs).toEqual(["A→B"]);
    // The register was written again in full, metadata included, in the new history.
    const puts = calls.filter((c) => c.method === "PUT");
    expect(puts).toHaveLength(2);
    expect(puts[1]!.body).toEqual({ registers: [{ name: "dev", value: "v", metadata: { kind: "lamp" } }] });
    // The poll after handling 2 acknowledges in history B: after=2, not 700.
    p.requests.next().catch(() => {});
    await vi.waitFor(() => expect(calls.filter((c) => c.method === "GET").length).toBeGreaterThanOrEqual(4));
    const later = calls.filter((c) => c.method === "GET").at(-1)!.url.searchParams;
    expect(later.get("after")).toBe("2");
    expect(later.get("epoch")).toBe("B");
    await client.close();
  });
});

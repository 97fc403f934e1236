// The published shape: "@switchboard/client" resolves through its exports map to the built dist, in step with src.

import { describe, expect, it } from "vitest";
import * as source from "#client";

describe("package", () => {
  it("resolves by name to a build that exports what src/index.ts exports", async () => {
    // Built by the root `npm run build` (run by `npm install` through the root `prepare`), wire first, then this package.
    const specifier = "@switchboard/client";
    const built = (await import(specifier)) as Record<string, unknown>;
    expect(Object.keys(built).sort()).toEqual(Object.keys(source).sort());
    expect(import.meta.resolve(specifier)).toMatch(/\/pkg\/client\/dist\/index\.js$/);
    const client = new (built.SwitchboardClient as typeof source.SwitchboardClient)({ url: "http://127.0.0.1:1" });
    expect(client.closed).toBe(false);
    await client.close();
    expect(client.closed).toBe(true);
  });
});

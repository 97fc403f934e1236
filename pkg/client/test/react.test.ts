// @switchboard/client/react against the real server: components re-render on changes, and unmounting takes
// the name out of the shared poll. Rendered with react-test-renderer (no DOM needed), in StrictMode.

import { createElement, StrictMode } from "react";
import { act, create, type ReactTestRenderer } from "react-test-renderer";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type Json, type StandardSchemaV1, SwitchboardClient } from "#client";
import {
  type RegisterState,
  type RegistersState,
  type UseRegisterOptions,
  useRegister,
  useRegisters,
} from "#src/react.js";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";

// Updates arrive from the network, outside act(): let React render them as it would in an app.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;

let srv: TestServer;
let writer: SwitchboardClient;
const renderers: ReactTestRenderer[] = [];
const clients: SwitchboardClient[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  writer = new SwitchboardClient({ url: srv.url });
});
afterEach(async () => {
  for (const r of renderers.splice(0)) r.unmount();
  for (const c of clients.splice(0)) await c.close();
});
afterAll(async () => {
  await writer.close();
  await srv.dispose();
});

/** A client whose long-polls are recorded: the names and prefixes each GET /consumer asked for. */
function recordingClient(): { client: SwitchboardClient; polls: { names: string[]; prefixes: string[] }[] } {
  const polls: { names: string[]; prefixes: string[] }[] = [];
  const client = new SwitchboardClient({
    url: srv.url,
    fetch: (input, init) => {
      const url = new URL(String(input));
      if ((init?.method ?? "GET") === "GET" && url.pathname === "/consumer") {
        polls.push({ names: url.searchParams.getAll("name"), prefixes: url.searchParams.getAll("prefix") });
      }
      return fetch(input, init);
    },
  });
  clients.push(client);
  return { client, polls };
}

/** Renders `useRegister(client, name)` and records every state it rendered. */
function renderRegister<T = Json>(client: SwitchboardClient, name: string, options?: UseRegisterOptions<T>) {
  const states: RegisterState<T>[] = [];
  function Show(props: { name: string }) {
    const state = useRegister<T>(client, props.name, options);
    states.push(state);
    return createElement("span", null, state.loading ? "loading" : JSON.stringify(state.value ?? null));
  }
  const element = (n: string) => createElement(StrictMode, null, createElement(Show, { name: n }));
  let renderer!: ReactTestRenderer;
  act(() => {
    renderer = create(element(name));
  });
  renderers.push(renderer);
  return {
    states,
    text: () => (renderer.toJSON() as { children: string[] } | null)?.children?.join("") ?? null,
    rename: (n: string) => renderer.update(element(n)),
    unmount: () => {
      renderer.unmount();
      renderers.splice(renderers.indexOf(renderer), 1);
    },
  };
}

const last = <T>(a: readonly T[]): T => a[a.length - 1]!;

describe("useRegister", () => {
  it("renders loading, then the value, and re-renders on every PUT", async () => {
    await writer.set("react/a", { n: 1 });
    const { client } = recordingClient();
    const view = renderRegister<{ n: number }>(client, "react/a");
    expect(view.states[0]).toMatchObject({ loading: true, stale: true, value: undefined, error: undefined });
    await vi.waitFor(() => expect(view.text()).toBe('{"n":1}'));
    expect(last(view.states)).toMatchObject({ loading: false, stale: false, item: { found: true, version: 1 } });

    await writer.set("react/a", { n: 2 });
    await vi.waitFor(() => expect(view.text()).toBe('{"n":2}'));
    expect(last(view.states).item).toMatchObject({ version: 2 });
    await writer.delete("react/a");
    await vi.waitFor(() => expect(view.text()).toBe("null"));
    expect(last(view.states)).toMatchObject({ value: undefined, item: { found: false }, loading: false });
  });

  it("takes the name out of the shared poll on unmount, and follows a changed name", async () => {
    await writer.set("react/kept", 1);
    await writer.set("react/gone", 2);
    const { client, polls } = recordingClient();
    const kept = renderRegister(client, "react/kept");
    const gone = renderRegister(client, "react/gone");
    await vi.waitFor(() => expect([kept.text(), gone.text()]).toEqual(["1", "2"]));
    await vi.waitFor(() => expect(last(polls).names.sort()).toEqual(["react/gone", "react/kept"]));

    gone.unmount();
    await vi.waitFor(() => expect(last(polls).names).toEqual(["react/kept"]));
    // Still live for the one left.
    await writer.set("react/kept", 10);
    await vi.waitFor(() => expect(kept.text()).toBe("10"));

    // A new name: the old subscription closes, the new one is polled.
    await writer.set("react/other", "x");
    kept.rename("react/other");
    await vi.waitFor(() => expect(kept.text()).toBe('"x"'));
    await vi.waitFor(() => expect(last(polls).names).toEqual(["react/other"]));
  });

  it("reports a value its schema refuses as error, and subscribes nothing while disabled", async () => {
    const numbers: StandardSchemaV1<unknown, number> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (v) => (typeof v === "number" ? { value: v } : { issues: [{ message: "not a number" }] }),
      },
    };
    await writer.set("react/typed", 1);
    const { client, polls } = recordingClient();
    const view = renderRegister(client, "react/typed", { schema: numbers });
    await vi.waitFor(() => expect(view.text()).toBe("1"));
    await writer.set("react/typed", "one");
    await vi.waitFor(() => expect(last(view.states).error).toBeDefined());
    expect((last(view.states).error as { code?: string }).code).toBe("INVALID_VALUE");

    const before = polls.length;
    const idle = renderRegister(recordingClient().client, "react/typed", { enabled: false });
    expect(last(idle.states)).toMatchObject({ loading: true, value: undefined });
    await expect(last(idle.states).request(1)).rejects.toThrow(/not subscribed/);
    expect(polls.length).toBe(before);
  });
});

describe("useRegisters", () => {
  it("keeps a Map of the registers under a prefix, re-rendering on add, change and delete", async () => {
    await writer.set("rlist/a", 1);
    const { client, polls } = recordingClient();
    const states: RegistersState[] = [];
    function List() {
      const state = useRegisters(client, "rlist/");
      states.push(state);
      return createElement("span", null, [...state.registers.values()].map((r) => `${r.name}=${r.value}`).join(","));
    }
    let renderer!: ReactTestRenderer;
    act(() => {
      renderer = create(createElement(List));
    });
    const text = () => (renderer.toJSON() as { children: string[] | null }).children?.join("") ?? "";
    await vi.waitFor(() => expect(text()).toBe("rlist/a=1"));
    expect(last(states)).toMatchObject({ loading: false, stale: false });
    await writer.set("rlist/b", 2);
    await vi.waitFor(() => expect(text()).toBe("rlist/a=1,rlist/b=2"));
    await writer.set("rlist/a", 3);
    await vi.waitFor(() => expect(text()).toBe("rlist/a=3,rlist/b=2"));
    await writer.delete("rlist/b");
    await vi.waitFor(() => expect(text()).toBe("rlist/a=3"));
    expect(last(polls).prefixes).toEqual(["rlist/"]);
    renderer.unmount();
    // Nothing left to poll (the other tests' clients are closed): the held poll ends.
    await vi.waitFor(() => expect(srv.server.core.stats().waiters.consumer).toBe(0));
  });
});

describe("package", () => {
  it("is published as @switchboard/client/react, built beside the core and not imported by it", async () => {
    const specifier = "@switchboard/client/react";
    expect(import.meta.resolve(specifier)).toMatch(/\/pkg\/client\/dist\/react\.js$/);
    const built = (await import(specifier)) as Record<string, unknown>;
    expect(Object.keys(built).sort()).toEqual(["useRegister", "useRegisters"]);
    // No other module of the build imports React: the core bundle works without it.
    const { readdir, readFile } = await import("node:fs/promises");
    const dist = new URL(".", import.meta.resolve("@switchboard/client"));
    const modules = (await readdir(dist)).filter((f) => f.endsWith(".js") && f !== "react.js");
    expect(modules).toContain("index.js");
    for (const f of modules) expect(await readFile(new URL(f, dist), "utf8"), f).not.toMatch(/from "react"/);
  });
});

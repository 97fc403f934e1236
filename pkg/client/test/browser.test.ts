// Browser smoke test: the built package (dist), bundled by esbuild, runs in headless Chromium against the real server (CORS).

import { build } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SwitchboardClient } from "#client";
import { buildClientDist, findChromium } from "../../../test/helpers/browser.js";
import { freePort, startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { take } from "./helpers.js";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let srv: TestServer;

let browser: Browser;
let page: Page;
let bundle: string;

beforeAll(async () => {
  // CORS is off unless origins are named: the page's origin (localhost:<port>) is allowed explicitly.
  const port = await freePort();
  const [server, entry] = await Promise.all([
    startTestServer({ port, config: { corsOrigin: `http://localhost:${port}` } }),
    buildClientDist(),
  ]);
  srv = server;
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  bundle = out.outputFiles[0]!.text;
  browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
  page = await browser.newPage();
  // A real document from the server (so Chromium places it in the loopback address space), on another
  // origin (localhost vs 127.0.0.1): every call of the client is then a cross-origin, CORS-checked request.
  await page.goto(`http://localhost:${srv.port}/healthz`);
  // As a string: vitest would rewrite a dynamic import() written in this file.
  await page.evaluate(`(async () => {
    const url = URL.createObjectURL(new Blob([${JSON.stringify(bundle)}], { type: "text/javascript" }));
    window.Switchboard = await import(url);
  })()`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.dispose();
});

describe("in a browser", () => {
  it("bundles without Node built-ins", () => {
    expect(bundle).not.toMatch(/\brequire\(|from\s*["']node:|process\.env|Buffer\./);
  });

  it("subscribes, sees a change made through the server, and sends a change request", async () => {
    const node = new SwitchboardClient({ url: srv.url });
    const device = node.provide("browser/lamp", "off");
    await device.ready;

    const first = await page.evaluate(async (url) => {
      const w = window as unknown as Record<string, any>;
      w.client = new w.Switchboard.SwitchboardClient({ url });
      w.sub = w.client.consume("browser/lamp");
      const item = await w.sub.next();
      w.pending = w.sub.next();
      return item.value;
    }, srv.url);
    expect(first).toMatchObject({ found: true, value: "off" });

    await device.set("on");
    const changed = await page.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      return (await w.pending).value;
    });
    expect(changed).toMatchObject({ name: "browser/lamp", found: true, value: "on", version: 2 });

    // PUT with a JSON body: a preflighted cross-origin request.
    const receipt = await page.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      return w.sub.request("dim");
    });
    expect(await take(device.requests)).toMatchObject({ id: receipt.id, value: "dim" });

    const ended = await page.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      const next = w.sub.next();
      await w.client.close();
      return next;
    });
    expect(ended).toEqual({ done: true });
    await node.close();
  });
});

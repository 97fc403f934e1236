// GraphiQL in headless Chromium: the page and all its assets come from the server itself, and a query runs from it.

import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];

let srv: TestServer;
let browser: Browser;
beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:" } });
  const res = await fetch(`${srv.url}/registry/create`, {
    method: "POST",
    body: JSON.stringify({ registry_id: "demo-registry", registry_search_data: { registry_type: "tool" } }),
  });
  expect(res.status).toBe(201);
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
  await srv.dispose();
});

it("loads GraphiQL from local assets only and runs the default query", async () => {
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on("request", (r) => requested.push(r.url()));
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${srv.url}/graphql`);
  await page.waitForSelector(".graphiql-execute-button", { timeout: 20_000 });
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(() => document.body.innerText.includes('"registryId": "demo-registry"'), undefined, {
    timeout: 20_000,
  });
  expect(errors).toEqual([]);
  expect(requested.length).toBeGreaterThan(4);
  for (const url of requested) expect(url.startsWith(srv.url), url).toBe(true);
  await page.close();
});

it("serves only the known assets", async () => {
  const css = await fetch(`${srv.url}/graphql/assets/graphiql.css`);
  expect(css.status).toBe(200);
  expect(css.headers.get("content-type")).toMatch(/text\/css/);
  for (const p of ["/graphql/assets/package.json", "/graphql/assets/..%2Fpackage.json", "/graphql/assets/"]) {
    const res = await fetch(`${srv.url}${p}`);
    expect(res.status, p).toBe(404);
  }
});

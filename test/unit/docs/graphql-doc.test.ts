// Keeps the schema printed in docs/graphql.md in sync with the schema the server serves.

import { readFileSync } from "node:fs";
import { printSchema } from "graphql";
import { expect, it } from "vitest";
import { buildSchema } from "../../../src/protocols/graphql/schema.js";

it("docs/graphql.md prints the served schema", () => {
  const doc = readFileSync(new URL("../../../docs/graphql.md", import.meta.url), "utf8");
  const marker = doc.indexOf("## Schema");
  expect(marker).toBeGreaterThan(0);
  const block = /```graphql\n([\s\S]*?)\n```/.exec(doc.slice(marker));
  expect(block?.[1]).toBe(printSchema(buildSchema()));
});

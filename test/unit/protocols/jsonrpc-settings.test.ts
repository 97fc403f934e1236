// The Plexus dialect's settings: defaults at the seed's port and path, "off" for each, bad values refused by name.

import { homedir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { resolveConfig } from "../../../src/config.js";
import { expandHome } from "../../../src/protocols/jsonrpc/backends-file.js";

it("defaults to port 4445, /jsonrpc on the HTTP port and the Plexus backends file", () => {
  expect(resolveConfig({}).protocols.jsonrpc).toEqual({
    jsonrpcPort: 4445,
    jsonrpcPath: "/jsonrpc",
    backendsFile: "~/.config/plexus/backends.toml",
    jsonrpcMaxMessageBytes: 1048576,
    jsonrpcRateLimit: 200,
    jsonrpcPingInterval: 30_000,
    jsonrpcAllow: [],
    jsonrpcPolicy: null,
  });
  expect(expandHome("~/.config/plexus/backends.toml")).toBe(join(homedir(), ".config/plexus/backends.toml"));
});

it("turns each endpoint and the file off, and takes strings as flags and env give them", () => {
  expect(
    resolveConfig({
      jsonrpcPort: "off",
      jsonrpcPath: "off",
      backendsFile: "off",
      jsonrpcRateLimit: "0",
      jsonrpcPingInterval: "5s",
    }).protocols.jsonrpc,
  ).toMatchObject({
    jsonrpcPort: null,
    jsonrpcPath: null,
    backendsFile: null,
    jsonrpcRateLimit: 0,
    jsonrpcPingInterval: 5000,
  });
});

it.each([
  [{ jsonrpcPath: "jsonrpc" }, /jsonrpc-path/],
  [{ jsonrpcPort: 70000 }, /jsonrpc-port/],
  [{ jsonrpcRateLimit: -1 }, /jsonrpc-rate-limit/],
  [{ jsonrpcMaxMessageBytes: 10 }, /jsonrpc-max-message-bytes/],
  [{ jsonrpcPingInterval: "soon" }, /jsonrpc-ping-interval/],
])("refuses %o naming the flag", (bad, flag) => {
  expect(() => resolveConfig(bad)).toThrow(flag);
});

// Registry requests: the shapes rpyc's client sends become commands (others are dropped with a reason); sender addresses.

import { describe, expect, it } from "vitest";
import type { Brine } from "../../../../src/protocols/rpyc/brine.js";
import { parseCommand } from "../../../../src/protocols/rpyc/commands.js";
import { normalizeHost } from "../../../../src/protocols/rpyc/registry.js";

describe("parseCommand", () => {
  it.each<[Brine, unknown]>([
    [["RPYC", "REGISTER", [["echo", "Other"], 18861]], { op: "register", aliases: ["echo", "Other"], port: 18861 }],
    [["RPYC", "register", [[], 1]], { op: "register", aliases: [], port: 1 }],
    [["RPYC", "UnRegister", [65535]], { op: "unregister", port: 65535 }],
    [["RPYC", "QUERY", ["echo"]], { op: "query", name: "echo" }],
    [["RPYC", "LIST", [[null]]], { op: "list", filterHost: null }],
    [["RPYC", "LIST", [["10.0.0.1", "ignored"]]], { op: "list", filterHost: "10.0.0.1" }],
    [["RPYC", "LIST", [[""]]], { op: "list", filterHost: null }],
  ])("%j", (msg, command) => {
    expect(parseCommand(msg)).toEqual({ ok: true, command });
  });

  it.each<[string, Brine]>([
    ["not a tuple", "RPYC"],
    ["a 2-tuple", ["RPYC", "QUERY"]],
    ["magic as bytes", [Buffer.from("RPYC"), "QUERY", ["x"]]],
    ["lower-case magic", ["rpyc", "QUERY", ["x"]]],
    ["command as bytes", ["RPYC", Buffer.from("QUERY"), ["x"]]],
    ["unknown command", ["RPYC", "CMD_QUERY", ["x"]]],
    ["arguments not a tuple", ["RPYC", "QUERY", "x"]],
    ["REGISTER aliases as one text", ["RPYC", "REGISTER", ["echo", 1]]],
    ["REGISTER alias as bytes", ["RPYC", "REGISTER", [[Buffer.from("echo")], 1]]],
    ["REGISTER port 0", ["RPYC", "REGISTER", [["echo"], 0]]],
    ["REGISTER port 65536", ["RPYC", "REGISTER", [["echo"], 65536]]],
    ["REGISTER port as text", ["RPYC", "REGISTER", [["echo"], "1"]]],
    ["REGISTER port beyond 2^53", ["RPYC", "REGISTER", [["echo"], 2n ** 60n]]],
    ["REGISTER with an extra argument", ["RPYC", "REGISTER", [["echo"], 1, 2]]],
    ["UNREGISTER without a port", ["RPYC", "UNREGISTER", []]],
    ["QUERY of None", ["RPYC", "QUERY", [null]]],
    ["QUERY of two names", ["RPYC", "QUERY", ["a", "b"]]],
    ["LIST of a bare None", ["RPYC", "LIST", [null]]],
    ["LIST of an empty tuple", ["RPYC", "LIST", [[]]]],
    ["LIST filter as an int", ["RPYC", "LIST", [[7]]]],
  ])("drops %s", (_, msg) => {
    expect(parseCommand(msg)).toMatchObject({ ok: false, detail: expect.any(String) });
  });
});

describe("normalizeHost", () => {
  it.each([
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:10.1.2.3", "10.1.2.3"],
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["::ffff:1", "::ffff:1"],
  ])("%s → %s", (address, host) => {
    expect(normalizeHost(address)).toBe(host);
  });
});

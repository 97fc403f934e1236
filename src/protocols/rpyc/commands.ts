// The registry request: a decoded brine value checked into one typed command, or the reason it is dropped.

import type { Brine } from "./brine.js";

export type Command =
  | { readonly op: "register"; readonly aliases: readonly string[]; readonly port: number }
  | { readonly op: "unregister"; readonly port: number }
  | { readonly op: "query"; readonly name: string }
  | { readonly op: "list"; readonly filterHost: string | null };

export type Parsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly detail: string };

const MAGIC = "RPYC";

const isTuple = (v: Brine): v is readonly Brine[] => Array.isArray(v);

const isPort = (v: Brine): v is number => typeof v === "number" && Number.isInteger(v) && v > 0 && v <= 65535;

function fail(detail: string): Parsed {
  return { ok: false, detail };
}

/**
 * `(magic, command, args)` as rpyc's registry client sends it. The shapes are those the stock
 * server can execute; anything it would fail on (wrong arity, bytes where text belongs) is
 * dropped here instead, as the stock server drops it after its handler raises.
 */
export function parseCommand(msg: Brine): Parsed {
  if (!isTuple(msg) || msg.length !== 3) return fail("not a 3-tuple");
  const [magic, cmd, args] = msg as [Brine, Brine, Brine];
  if (magic !== MAGIC) return fail("wrong magic");
  if (typeof cmd !== "string") return fail("command is not text");
  if (!isTuple(args)) return fail("arguments are not a tuple");
  switch (cmd.toLowerCase()) {
    case "register": {
      const [aliases, port] = args;
      if (args.length !== 2 || aliases === undefined || !isTuple(aliases))
        return fail("REGISTER wants (aliases, port)");
      if (!aliases.every((a) => typeof a === "string")) return fail("REGISTER aliases must be text");
      if (port === undefined || !isPort(port)) return fail("REGISTER port must be 1-65535");
      return { ok: true, command: { op: "register", aliases: aliases as string[], port } };
    }
    case "unregister": {
      const [port] = args;
      if (args.length !== 1 || port === undefined || !isPort(port)) return fail("UNREGISTER wants (port,)");
      return { ok: true, command: { op: "unregister", port } };
    }
    case "query": {
      const [name] = args;
      if (args.length !== 1 || typeof name !== "string") return fail("QUERY wants (name,)");
      return { ok: true, command: { op: "query", name } };
    }
    case "list": {
      // The client sends ((filter_host,),); the stock server looks at filter_host[0] only.
      const [filter] = args;
      if (args.length !== 1 || filter === undefined || !isTuple(filter) || filter.length === 0) {
        return fail("LIST wants ((filter_host,),)");
      }
      const host = filter[0]!;
      if (host !== null && typeof host !== "string") return fail("LIST filter must be text or None");
      // An empty filter means no filter, as in the stock server (it tests the value's truth).
      return { ok: true, command: { op: "list", filterHost: host === "" ? null : host } };
    }
    default:
      return fail("unknown command");
  }
}

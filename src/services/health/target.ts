// What a register asks to be checked and proxied to: a service's host/port or a registry record's URLs.

import type { Json, JsonObject, Register } from "../../core/index.js";
import { SERVICES_PREFIX } from "../discovery.js";
import { REGISTRY_PREFIX } from "../registry/record.js";

export type Check =
  | { readonly kind: "http"; readonly url: URL }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  /** Healthy while its lease (the register's TTL, renewed by heartbeats) holds. */
  | { readonly kind: "ttl" }
  /** Nothing checkable is named; the verdict is critical with this reason. */
  | { readonly kind: "invalid"; readonly reason: string };

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface Target {
  readonly name: string;
  readonly check: Check;
  /** Where the proxy connects; null when the register names no usable endpoint. */
  readonly endpoint: Endpoint | null;
}

/** True for the registers the health checker looks after. */
export function isCheckable(name: string): boolean {
  return name.startsWith(SERVICES_PREFIX) || name.startsWith(REGISTRY_PREFIX);
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function validPort(p: unknown): p is number {
  return typeof p === "number" && Number.isInteger(p) && p > 0 && p < 65536;
}

/** An http(s) health URL, or the reason it is not one. Only http and https are ever fetched. */
function httpCheck(raw: string): Check {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { kind: "invalid", reason: `health_check_api is not a URL: ${raw.slice(0, 200)}` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { kind: "invalid", reason: `health_check_api scheme ${url.protocol} is not http or https` };
  }
  return { kind: "http", url };
}

/** The host and port of a registry_url (tcp://, http://, https://; default ports 80 and 443). */
export function endpointOfUrl(raw: string): Endpoint | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const defaults: Record<string, number> = { "http:": 80, "https:": 443 };
  if (!(url.protocol in defaults) && url.protocol !== "tcp:") return null;
  const port = url.port === "" ? defaults[url.protocol] : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return host !== "" && validPort(port) ? { host, port } : null;
}

function serviceTarget(r: Register, v: JsonObject): Target {
  const endpoint =
    typeof v.host === "string" && v.host !== "" && validPort(v.port) ? { host: v.host, port: v.port } : null;
  let check: Check;
  if (typeof v.health_check_api === "string") check = httpCheck(v.health_check_api);
  else if (v.check === "ttl") check = { kind: "ttl" };
  else if (endpoint) check = { kind: "tcp", ...endpoint };
  else check = { kind: "invalid", reason: "the service names no valid host and port" };
  return { name: r.name, check, endpoint };
}

function recordTarget(r: Register, v: JsonObject): Target {
  const endpoint = typeof v.registry_url === "string" ? endpointOfUrl(v.registry_url) : null;
  let check: Check;
  if (typeof v.health_check_api === "string") check = httpCheck(v.health_check_api);
  else if (endpoint) check = { kind: "tcp", ...endpoint };
  else check = { kind: "invalid", reason: "the record names no health_check_api and no tcp/http/https registry_url" };
  return { name: r.name, check, endpoint };
}

/** The target a service or registry record names; null for any other register. */
export function targetOf(r: Register): Target | null {
  const v = isObject(r.value) ? r.value : {};
  if (r.name.startsWith(SERVICES_PREFIX)) return serviceTarget(r, v);
  if (r.name.startsWith(REGISTRY_PREFIX)) return recordTarget(r, v);
  return null;
}

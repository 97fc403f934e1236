// JSON-RPC 2.0 framing: one text frame → a request or a batch, each entry checked; errors as the spec numbers them.

import type { ErrorCode, SwitchboardError } from "../../core/index.js";

export type RpcId = string | number | null;

/** The spec's error codes, plus the server-defined range the Plexus dialect uses. */
export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** Any domain failure (not found, exists, limits, storage); `data.code` says which. */
  SERVER_ERROR: -32000,
  /** Authentication and authorisation failures. */
  AUTH_ERROR: -32001,
} as const;

export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export type RpcResponse =
  | { readonly jsonrpc: "2.0"; readonly id: RpcId; readonly result: unknown }
  | { readonly jsonrpc: "2.0"; readonly id: RpcId; readonly error: RpcErrorObject };

/** A well-formed request. `id` undefined = a notification, which gets no reply. */
export interface RpcRequest {
  readonly id: RpcId | undefined;
  readonly method: string;
  readonly params: unknown;
}

/** One entry of a frame: a request to run, or an answer already decided (malformed entry). */
export type RpcEntry = { readonly request: RpcRequest } | { readonly invalid: RpcResponse };

export type ParsedFrame =
  | { readonly kind: "single"; readonly entry: RpcEntry }
  | { readonly kind: "batch"; readonly entries: readonly RpcEntry[] }
  /** Not JSON, an empty batch or an oversized batch: one error answer, nothing runs. */
  | { readonly kind: "reject"; readonly response: RpcResponse };

export function rpcResult(id: RpcId, result: unknown): RpcResponse {
  return { jsonrpc: "2.0", id, result };
}

export function rpcError(id: RpcId, code: number, message: string, data?: unknown): RpcResponse {
  return { jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } };
}

function isId(v: unknown): v is RpcId {
  return v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

function checkEntry(raw: unknown): RpcEntry {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { invalid: rpcError(null, RPC.INVALID_REQUEST, "Invalid Request: not an object") };
  }
  const o = raw as Record<string, unknown>;
  // An unusable id cannot be echoed: the spec answers such requests with id null.
  if ("id" in o && !isId(o.id)) {
    return { invalid: rpcError(null, RPC.INVALID_REQUEST, "Invalid Request: id must be a string, a number or null") };
  }
  const id = "id" in o ? (o.id as RpcId) : undefined;
  const answerId = id ?? null;
  if (o.jsonrpc !== "2.0") {
    return { invalid: rpcError(answerId, RPC.INVALID_REQUEST, 'Invalid Request: jsonrpc must be "2.0"') };
  }
  if (typeof o.method !== "string" || o.method.length === 0) {
    return { invalid: rpcError(answerId, RPC.INVALID_REQUEST, "Invalid Request: method must be a non-empty string") };
  }
  if ("params" in o && (typeof o.params !== "object" || o.params === null)) {
    return {
      invalid: rpcError(answerId, RPC.INVALID_REQUEST, "Invalid Request: params must be an object or an array"),
    };
  }
  return { request: { id, method: o.method, params: o.params } };
}

/** Parses one text frame. `maxBatch` bounds the entries of one batch. */
export function parseFrame(text: string, maxBatch: number): ParsedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // Also catches a RangeError from absurd nesting: still just "not JSON we can read".
    return { kind: "reject", response: rpcError(null, RPC.PARSE_ERROR, "Parse error") };
  }
  if (!Array.isArray(raw)) return { kind: "single", entry: checkEntry(raw) };
  if (raw.length === 0) {
    return { kind: "reject", response: rpcError(null, RPC.INVALID_REQUEST, "Invalid Request: empty batch") };
  }
  if (raw.length > maxBatch) {
    return {
      kind: "reject",
      response: rpcError(null, RPC.INVALID_REQUEST, `Invalid Request: a batch holds at most ${maxBatch} requests`, {
        limit: maxBatch,
      }),
    };
  }
  return { kind: "batch", entries: raw.map(checkEntry) };
}

/** A SwitchboardError as a JSON-RPC error: its message as the message, its code in `data`. */
export function errorFromSwitchboard(id: RpcId, err: SwitchboardError): RpcResponse {
  const data: { code: ErrorCode; details?: unknown; retryAfter?: number } = { code: err.code };
  if (err.details !== undefined) data.details = err.details;
  if (err.retryAfter !== undefined) data.retryAfter = err.retryAfter;
  // A broken backends file is the server's trouble, not the caller's params.
  const code =
    err.kind === "invalid" && err.code !== "BACKENDS_FILE_INVALID"
      ? RPC.INVALID_PARAMS
      : err.kind === "unauthorized" || err.kind === "forbidden"
        ? RPC.AUTH_ERROR
        : err.kind === "internal"
          ? RPC.INTERNAL_ERROR
          : RPC.SERVER_ERROR;
  return rpcError(id, code, err.message, data);
}

/** Metric label for a JSON-RPC error answer (bounded set: the Switchboard code or the spec's name). */
export function errorLabel(response: RpcResponse): string | null {
  if (!("error" in response)) return null;
  const data = response.error.data as { code?: unknown } | undefined;
  if (data && typeof data.code === "string") return data.code;
  switch (response.error.code) {
    case RPC.PARSE_ERROR:
      return "PARSE_ERROR";
    case RPC.INVALID_REQUEST:
      return "INVALID_REQUEST";
    case RPC.METHOD_NOT_FOUND:
      return "METHOD_NOT_FOUND";
    case RPC.INVALID_PARAMS:
      return "INVALID_PARAMS";
    default:
      return "INTERNAL";
  }
}

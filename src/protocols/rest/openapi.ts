// The OpenAPI 3.1 description of the REST API served at /openapi.json (checked against real answers by a test).

import { z } from "zod";
import { acksBody, registerInput, requestInput } from "./schemas.js";

/** JSON Schema of a body as clients send it (the input side of the zod schema). */
function fromZod(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: "Error", ...json(ref("Error")) }]));
const q = (name: string, description: string, schema: unknown = { type: "string" }, required = false) => ({
  name,
  in: "query",
  required,
  description,
  schema,
});
const selector = [
  q("name", "Register name (repeatable).", { type: "array", items: { type: "string" } }),
  q("prefix", "Name prefix (repeatable).", { type: "array", items: { type: "string" } }),
];
const wait = q(
  "wait",
  'Longest hold: seconds or "500ms", "30s", "5m" (max 5m, default 30s; jittered by up to wait/16).',
);
const epoch = q(
  "epoch",
  "The epoch the index/after came from; another epoch than the server's means resync (nothing is acknowledged).",
);
const indexHeader = {
  "X-Switchboard-Index": { description: "The global revision.", schema: { type: "integer" } },
  "X-Switchboard-Epoch": { description: "The data set's history id (on every answer).", schema: { type: "string" } },
};

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Switchboard",
    version: "0.1.0",
    description: "Registers published by providers, read and long-polled by consumers, changed through requests.",
  },
  paths: {
    "/provider": {
      put: {
        summary: "Set or refresh registers (all or nothing)",
        requestBody: { required: true, ...json({ oneOf: [ref("RegisterBatch"), ref("RegisterInput")] }) },
        responses: {
          "200": { description: "Applied and durable", headers: indexHeader, ...json(ref("SetResult")) },
          ...errors(400, 409, 413, 503),
        },
      },
      get: {
        summary: "Poll change requests (acknowledging those with id <= after)",
        parameters: [...selector, q("after", "Last request id handled.", { type: "integer" }), epoch, wait],
        responses: {
          "200": { description: "Pending requests", headers: indexHeader, ...json(ref("RequestList")) },
          ...errors(400, 429, 503),
        },
      },
      delete: {
        summary: "Deregister (conditionally with ifVersion / ifModRevision: once for all names, or once per name)",
        parameters: [
          selector[0],
          q("ifVersion", "Delete only at this version.", { type: "integer" }),
          q("ifModRevision", "Delete only at this modRevision.", { type: "integer" }),
        ],
        responses: { "200": { description: "Deleted", ...json(ref("DeleteResult")) }, ...errors(400, 409, 503) },
      },
    },
    "/provider/acks": {
      put: {
        summary: "Report outcomes (done, rejected, failed) of handled change requests; they leave the queue",
        requestBody: { required: true, ...json(ref("AcksBody")) },
        responses: {
          "200": { description: "Each id's outcome now (status unknown: no such request)", ...json(ref("AcksResult")) },
          ...errors(400, 413, 503),
        },
      },
    },
    "/consumer/requests/{id}": {
      get: {
        summary: "A change request's outcome; with wait, held until it is final",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }, wait],
        responses: {
          "200": { description: "The outcome", ...json(ref("Outcome")) },
          ...errors(400, 404),
        },
      },
    },
    "/consumer": {
      get: {
        summary: "Read registers; with index, long-poll for a change after it",
        parameters: [
          ...selector,
          q("index", "Revision last seen.", { type: "integer" }),
          epoch,
          wait,
          q("pending", "Add each register's pending change requests; their arrival and outcome wake the poll.", {
            type: "boolean",
          }),
          q("where", "A JSON Mongo-style filter on {name, value, metadata}: wake only for changes that match."),
        ],
        responses: {
          "200": { description: "Current state", headers: indexHeader, ...json(ref("ConsumerResult")) },
          ...errors(400, 429, 503),
        },
      },
      put: {
        summary: "Request changes from providers",
        requestBody: { required: true, ...json({ oneOf: [ref("RequestBatch"), ref("RequestInput")] }) },
        responses: {
          "202": { description: "Queued", ...json(ref("RequestAccepted")) },
          ...errors(400, 404, 409, 413, 429, 503),
        },
      },
    },
    "/registers": {
      get: {
        summary: "List registers by prefix, paged",
        parameters: [
          q("prefix", "Name prefix."),
          q("limit", "Page size (max 1000).", { type: "integer" }),
          q("cursor", "From the previous page."),
        ],
        responses: { "200": { description: "A page", ...json(ref("RegisterPage")) }, ...errors(400) },
      },
    },
    "/events": {
      get: {
        summary: "Server-Sent Events of changes (id = revision; resume with Last-Event-ID)",
        parameters: [
          q("prefix", "Name prefix."),
          q("after", "Resume after this revision.", { type: "integer" }),
          epoch,
          q("where", "A JSON Mongo-style filter on {name, value, metadata}: only events that match."),
        ],
        responses: { "200": { description: "text/event-stream" }, ...errors(400) },
      },
    },
    "/healthz": { get: { summary: "Liveness", responses: { "200": { description: "Alive" } } } },
    "/readyz": { get: { summary: "Readiness", responses: { "200": { description: "Ready" }, ...errors(503) } } },
    "/status": {
      get: {
        summary: "What runs where: version, uptime, revision, registers, waiters, storage, listeners",
        responses: { "200": { description: "Status", ...json(ref("Status")) } },
      },
    },
    "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "text/plain" } } } },
    "/openapi.json": { get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" } } } },
  },
  components: {
    schemas: {
      Error: {
        type: "object",
        required: ["error"],
        properties: {
          error: {
            type: "object",
            required: ["code", "message"],
            properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
          },
        },
      },
      Duration: { oneOf: [{ type: "number" }, { type: "string", examples: ["30s", "500ms", "5m"] }] },
      // Request bodies come from the zod schemas that validate them, so the two cannot drift.
      RegisterInput: fromZod(registerInput),
      RegisterBatch: {
        type: "object",
        required: ["registers"],
        properties: { registers: { type: "array", items: ref("RegisterInput") } },
      },
      SetResult: {
        type: "object",
        properties: {
          index: { type: "integer" },
          epoch: { type: "string" },
          registers: {
            type: "array",
            items: {
              type: "object",
              properties: {
                name: { type: "string" },
                version: { type: "integer" },
                modRevision: { type: "integer" },
                changed: { type: "boolean" },
                expiresAt: { type: ["string", "null"], format: "date-time" },
              },
            },
          },
        },
      },
      Register: {
        type: "object",
        properties: {
          name: { type: "string" },
          found: { type: "boolean" },
          value: {},
          metadata: { type: "object" },
          version: { type: "integer" },
          createRevision: { type: "integer" },
          modRevision: { type: "integer" },
          createdAt: { type: "string", format: "date-time" },
          updatedAt: { type: "string", format: "date-time" },
          expiresAt: { type: ["string", "null"], format: "date-time" },
          pending: {
            type: "array",
            description: "With pending=true: the register's pending change requests, oldest first",
            items: {
              type: "object",
              properties: {
                id: { type: "integer" },
                value: {},
                requestedAt: { type: "string", format: "date-time" },
                requester: { type: "string" },
                expiresAt: { type: "string", format: "date-time" },
              },
            },
          },
        },
      },
      ConsumerResult: {
        type: "object",
        properties: {
          index: { type: "integer" },
          epoch: { type: "string" },
          resync: { type: "boolean" },
          registers: { type: "array", items: ref("Register") },
        },
      },
      RegisterPage: {
        type: "object",
        properties: {
          index: { type: "integer" },
          epoch: { type: "string" },
          registers: { type: "array", items: ref("Register") },
          cursor: { type: ["string", "null"] },
        },
      },
      RequestInput: fromZod(requestInput),
      AcksBody: fromZod(acksBody),
      Outcome: {
        type: "object",
        required: ["id", "status"],
        properties: {
          id: { type: "integer" },
          name: { type: "string" },
          status: {
            type: "string",
            enum: ["pending", "delivered", "done", "rejected", "failed", "expired", "dropped", "unknown"],
          },
          requestedAt: { type: "string", format: "date-time" },
          requester: { type: "string" },
          finishedAt: { type: "string", format: "date-time" },
          result: {},
          message: { type: "string" },
        },
      },
      AcksResult: {
        type: "object",
        properties: {
          index: { type: "integer" },
          epoch: { type: "string" },
          acks: { type: "array", items: ref("Outcome") },
        },
      },
      RequestBatch: {
        type: "object",
        required: ["requests"],
        properties: { requests: { type: "array", items: ref("RequestInput") } },
      },
      RequestAccepted: {
        type: "object",
        properties: {
          index: { type: "integer" },
          epoch: { type: "string" },
          requests: {
            type: "array",
            items: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" } } },
          },
        },
      },
      RequestList: {
        type: "object",
        properties: {
          index: { type: "integer" },
          epoch: { type: "string" },
          resync: { type: "boolean", description: "after was ignored (another epoch): nothing acknowledged" },
          missing: { type: "array", items: { type: "string" }, description: "named registers that do not exist" },
          requests: {
            type: "array",
            items: {
              type: "object",
              properties: {
                id: { type: "integer" },
                name: { type: "string" },
                value: {},
                requestedAt: { type: "string", format: "date-time" },
                requester: { type: "string" },
              },
            },
          },
        },
      },
      Status: {
        type: "object",
        required: ["status", "version", "revision", "registers", "waiters", "storage", "listeners"],
        properties: {
          status: { type: "string", enum: ["ready", "not_ready"] },
          version: { type: "string" },
          uptimeSeconds: { type: "integer" },
          revision: { type: "integer" },
          registers: { type: "integer" },
          queuedRequests: { type: "integer" },
          waiters: {
            type: "object",
            required: ["consumer", "provider", "stream"],
            properties: { consumer: { type: "integer" }, provider: { type: "integer" }, stream: { type: "integer" } },
          },
          storage: {
            type: "object",
            required: ["name", "healthy"],
            properties: { name: { type: "string" }, healthy: { type: "boolean" } },
          },
          cluster: {
            type: "object",
            description: "Only on a cluster member (--cluster): this node's role in the cluster",
            required: ["nodeId", "role", "term", "writer", "appliedSequence", "connected"],
            properties: {
              nodeId: { type: "string" },
              role: { type: "string", enum: ["writer", "follower"] },
              term: { type: "integer" },
              writer: { type: ["string", "null"] },
              appliedSequence: { type: "integer" },
              connected: { type: "boolean" },
            },
          },
          listeners: {
            type: "array",
            items: {
              type: "object",
              required: ["protocol", "transport", "host", "port"],
              properties: {
                protocol: { type: "string" },
                transport: { type: "string", enum: ["http", "tcp", "udp", "ws", "zmq"] },
                host: { type: "string" },
                port: { type: "integer" },
              },
            },
          },
        },
      },
      DeleteResult: {
        type: "object",
        properties: {
          index: { type: "integer" },
          epoch: { type: "string" },
          deleted: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
};

// REST's share of /openapi.json: its paths with request bodies and answers generated from the zod schemas that
// validate the bodies (schemas.ts) and type the answers (responses.ts).

import { z } from "zod";
import { policySchema } from "../../services/auth/index.js";
import { answer, body, errors, json, type OpenApiPart, pathParam, q, ref, requestSchema } from "../http/openapi.js";
import { tokenBody } from "./acl.js";
import {
  acksAnswer,
  consumerAnswer,
  deleteAnswer,
  healthzAnswer,
  listAnswer,
  outcomeAnswer,
  providerAnswer,
  readyzAnswer,
  requestAnswer,
  statusAnswer,
  writeAnswer,
} from "./responses.js";
import { acksBody, registerInput, requestInput } from "./schemas.js";

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
  headers: {
    "X-Switchboard-Index": { description: "The global revision.", schema: { type: "integer" } },
    "X-Switchboard-Epoch": { description: "The data set's history id (on every answer).", schema: { type: "string" } },
  },
};

const tokenRecord = z.strictObject({
  id: z.string(),
  description: z.string(),
  policies: z.array(z.string()),
  createdAt: z.iso.datetime(),
});

export const restOpenApi: OpenApiPart = {
  paths: {
    "/provider": {
      put: {
        summary: "Set or refresh registers (all or nothing)",
        requestBody: { required: true, ...json({ oneOf: [ref("RegisterBatch"), ref("RegisterInput")] }) },
        responses: { "200": answer("Applied and durable", writeAnswer, indexHeader), ...errors(400, 409, 413, 503) },
      },
      get: {
        summary: "Poll change requests (acknowledging those with id <= after)",
        parameters: [...selector, q("after", "Last request id handled.", { type: "integer" }), epoch, wait],
        responses: { "200": answer("Pending requests", providerAnswer, indexHeader), ...errors(400, 429, 503) },
      },
      delete: {
        summary: "Deregister (conditionally with ifVersion / ifModRevision: once for all names, or once per name)",
        parameters: [
          selector[0],
          q("ifVersion", "Delete only at this version.", { type: "integer" }),
          q("ifModRevision", "Delete only at this modRevision.", { type: "integer" }),
        ],
        responses: { "200": answer("Deleted", deleteAnswer), ...errors(400, 409, 503) },
      },
    },
    "/provider/acks": {
      put: {
        summary: "Report outcomes (done, rejected, failed) of handled change requests; they leave the queue",
        parameters: [epoch],
        requestBody: body(acksBody),
        responses: {
          "200": answer("Each id's outcome now (status unknown: no such request)", acksAnswer),
          ...errors(400, 413, 503),
        },
      },
    },
    "/consumer/requests/{id}": {
      get: {
        summary: "A change request's outcome; with wait, held until it is final",
        parameters: [pathParam("id", { type: "integer" }), wait],
        responses: { "200": answer("The outcome", outcomeAnswer), ...errors(400, 404) },
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
        responses: { "200": answer("Current state", consumerAnswer, indexHeader), ...errors(400, 429, 503) },
      },
      put: {
        summary: "Request changes from providers",
        requestBody: { required: true, ...json({ oneOf: [ref("RequestBatch"), ref("RequestInput")] }) },
        responses: { "202": answer("Queued", requestAnswer), ...errors(400, 404, 409, 413, 429, 503) },
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
        responses: { "200": answer("A page", listAnswer), ...errors(400) },
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
    "/healthz": { get: { summary: "Liveness", responses: { "200": answer("Alive", healthzAnswer) } } },
    "/readyz": {
      get: { summary: "Readiness", responses: { "200": answer("Ready", readyzAnswer), ...errors(503) } },
    },
    "/status": {
      get: {
        summary: "What runs where: version, uptime, revision, registers, waiters, storage, listeners",
        responses: { "200": answer("Status", statusAnswer), ...errors(401, 403) },
      },
    },
    "/metrics": {
      get: { summary: "Prometheus metrics", responses: { "200": { description: "text/plain" }, ...errors(401, 403) } },
    },
    "/openapi.json": {
      get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" }, ...errors(401, 403) } },
    },
    "/acl/tokens": {
      get: {
        summary: "List tokens (admin; ids and policies, never secrets)",
        responses: {
          "200": answer("The tokens", z.strictObject({ tokens: z.array(tokenRecord) })),
          ...errors(401, 403, 404),
        },
      },
      post: {
        summary: "Create a token; its secret is shown in this answer only",
        requestBody: body(tokenBody),
        responses: {
          "201": answer("Created", z.strictObject({ token: z.string(), ...tokenRecord.shape })),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    "/acl/tokens/{id}": {
      delete: {
        summary: "Revoke a token",
        parameters: [pathParam("id")],
        responses: {
          "200": answer("Revoked", z.strictObject({ revoked: z.string() })),
          ...errors(401, 403, 404),
        },
      },
    },
    "/acl/policies": {
      get: {
        summary: "List policies (admin)",
        responses: {
          "200": answer("The policies", z.strictObject({ policies: z.array(policySchema) })),
          ...errors(401, 403, 404),
        },
      },
    },
    "/acl/policies/{name}": {
      put: {
        summary: "Create or replace a policy",
        parameters: [pathParam("name")],
        requestBody: body(policySchema.omit({ name: true })),
        responses: { "200": answer("The policy", policySchema), ...errors(400, 401, 403, 404) },
      },
      delete: {
        summary: "Delete a policy",
        parameters: [pathParam("name")],
        responses: {
          "200": answer("Deleted", z.strictObject({ deleted: z.string() })),
          ...errors(401, 403, 404),
        },
      },
    },
  },
  schemas: {
    RegisterInput: requestSchema(registerInput),
    RegisterBatch: {
      type: "object",
      required: ["registers"],
      properties: { registers: { type: "array", items: ref("RegisterInput") } },
    },
    RequestInput: requestSchema(requestInput),
    RequestBatch: {
      type: "object",
      required: ["requests"],
      properties: { requests: { type: "array", items: ref("RequestInput") } },
    },
  },
};

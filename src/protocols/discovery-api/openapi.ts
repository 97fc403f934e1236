// The discovery routes' share of /openapi.json, with bodies and answers from the zod schemas of schemas.ts and below.

import { z } from "zod";
import { answer, body, errors, type OpenApiPart, pathParam, q } from "../http/openapi.js";
import { heartbeatBody, registerBody } from "./schemas.js";

const int = z.number().int().nonnegative();
const time = z.iso.datetime();

/** A health verdict as formatHealth writes it. */
export const healthAnswer = z.strictObject({
  status: z.enum(["passing", "warning", "critical"]),
  checkedAt: time,
  latencyMs: z.number().nonnegative(),
  output: z.string(),
});

/** A service as formatService writes it: its endpoint fields (host, port, …) and the fields below. */
export const serviceAnswer = z
  .object({
    host: z.string(),
    port: int,
    type: z.string(),
    id: z.string(),
    name: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    health: healthAnswer.nullable(),
    version: int,
    modRevision: int,
    registeredAt: time,
    updatedAt: time,
    expiresAt: time.nullable(),
  })
  .catchall(z.unknown());

const indexed = { index: int, epoch: z.string() };
const one = z.strictObject({ ...indexed, service: serviceAnswer });
const typeAndId = [pathParam("type"), pathParam("id")];
const filter = [
  q("healthy", "Only services whose last check passed (true/false/1/0)."),
  q("tag", "Only services with this tag (repeatable).", { type: "array", items: { type: "string" } }),
];

export const discoveryOpenApi: OpenApiPart = {
  paths: {
    "/services": {
      post: {
        summary: "Register a service (services/<type>/<id>; the TTL is its lease)",
        requestBody: body(registerBody),
        responses: { "201": answer("Registered", one), ...errors(400, 401, 403, 409, 413, 503) },
      },
      get: {
        summary: "List services",
        parameters: filter,
        responses: {
          "200": answer("The services", z.strictObject({ ...indexed, services: z.array(serviceAnswer) })),
          ...errors(400, 401),
        },
      },
    },
    "/services/{type}": {
      get: {
        summary: "Discover the services of a type; with index, long-poll for a change after it",
        parameters: [
          pathParam("type"),
          ...filter,
          q("index", "Revision last seen.", { type: "integer" }),
          q("wait", "Longest hold (default 30s)."),
        ],
        responses: {
          "200": answer(
            "The services of that type",
            z.strictObject({ ...indexed, resync: z.literal(true).exactOptional(), services: z.array(serviceAnswer) }),
          ),
          ...errors(400, 401, 429, 503),
        },
      },
    },
    "/services/{type}/{id}": {
      get: {
        summary: "One service",
        parameters: typeAndId,
        responses: { "200": answer("The service", one), ...errors(400, 401, 403, 404) },
      },
      delete: {
        summary: "Deregister a service",
        parameters: typeAndId,
        responses: {
          "200": answer("Deregistered", z.strictObject({ ...indexed, deregistered: z.string() })),
          ...errors(400, 401, 403, 404, 503),
        },
      },
    },
    "/services/{type}/{id}/heartbeat": {
      put: {
        summary: "Renew the lease (an empty body renews the TTL registered; ttl sets a new one)",
        parameters: typeAndId,
        requestBody: { ...body(heartbeatBody), required: false },
        responses: { "200": answer("Renewed", one), ...errors(400, 401, 403, 404, 503) },
      },
    },
    "/services/{type}/{id}/check": {
      post: {
        summary: "Run the service's health check now and publish the verdict",
        parameters: typeAndId,
        responses: {
          "200": answer("The verdict", z.strictObject({ name: z.string(), health: healthAnswer })),
          ...errors(401, 403, 404, 503),
        },
      },
    },
    "/registry/health/{id}": {
      post: {
        summary: "Run a registry record's health check now and publish the verdict",
        parameters: [pathParam("id")],
        responses: {
          "200": answer("The verdict", z.strictObject({ registry_id: z.string(), health: healthAnswer })),
          ...errors(401, 403, 404, 503),
        },
      },
    },
  },
};

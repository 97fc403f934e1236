// The registry routes' share of /openapi.json: request bodies from the zod schemas that validate them, answers
// around the records (free-form documents keyed by registry_id).

import { z } from "zod";
import { createSpecSchema } from "../../services/registry/schema.js";
import { answer, body, errors, type OpenApiPart, pathParam, q } from "../http/openapi.js";
import { filterBody, partialBody, tagsBody } from "./queries.js";

const index = z.number().int().nonnegative();
const record = z.looseObject({ registry_id: z.string() });
const one = z.strictObject({ index, registry: record });
const many = z.strictObject({ index, registries: z.array(record) });
const uploadStatus = z.strictObject({
  task_id: z.string(),
  status: z.enum(["queued", "processing", "done", "failed"]),
  registry_id: z.string().optional(),
  error: z.strictObject({ code: z.string(), message: z.string(), details: z.unknown().optional() }).optional(),
});
const limit = q("limit", "Most records in the answer.", { type: "integer" });

export const registryOpenApi: OpenApiPart = {
  paths: {
    "/registry/create": {
      post: {
        summary: "Create a registry record (registries/<registry_id>)",
        requestBody: body(createSpecSchema),
        responses: { "201": answer("Created", one), ...errors(400, 401, 403, 409, 413, 503) },
      },
    },
    "/registry/update": {
      put: {
        summary: "Replace a registry record",
        requestBody: body(createSpecSchema),
        responses: { "200": answer("Updated", one), ...errors(400, 401, 403, 404, 413, 503) },
      },
    },
    "/registry/delete/{id}": {
      delete: {
        summary: "Delete a registry record",
        parameters: [pathParam("id")],
        responses: {
          "200": answer("Deleted", z.strictObject({ index, registry_id: z.string() })),
          ...errors(401, 403, 404, 503),
        },
      },
    },
    "/registry/query/by-id/{id}": {
      get: {
        summary: "One record",
        parameters: [pathParam("id")],
        responses: { "200": answer("The record", one), ...errors(401, 403, 404) },
      },
    },
    "/registry/query/by-type/{type}": {
      get: {
        summary: "The records of a type",
        parameters: [pathParam("type")],
        responses: { "200": answer("The records", many), ...errors(401) },
      },
    },
    "/registry/query/by-tags": {
      post: {
        summary: "The records carrying every tag",
        requestBody: body(tagsBody),
        responses: { "200": answer("The records", many), ...errors(400, 401) },
      },
    },
    "/registry/query/by-url": {
      get: {
        summary: "The records whose registry_url contains a fragment",
        parameters: [q("fragment", "Part of the URL.", { type: "string" }, true)],
        responses: { "200": answer("The records", many), ...errors(400, 401) },
      },
    },
    "/registry/query/partial": {
      post: {
        summary: "The records whose field contains a fragment",
        requestBody: body(partialBody),
        responses: { "200": answer("The records", many), ...errors(400, 401) },
      },
    },
    "/registry/query": {
      post: {
        summary: "Mongo-style filter over the records (operator allow-list), sorted and paged",
        requestBody: body(filterBody),
        responses: { "200": answer("The records", many), ...errors(400, 401) },
      },
    },
    "/registry/search": {
      get: {
        summary: "The search language over the records",
        parameters: [q("q", "The query.", { type: "string" }, true), limit],
        responses: { "200": answer("The records", many), ...errors(400, 401) },
      },
    },
    "/registry/upload_zip": {
      post: {
        summary: "Upload a record's spec with its zip bundle; processed in the background (see the status route)",
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                required: ["spec", "zip"],
                properties: {
                  spec: { type: "string", description: "The record, as JSON text (the body of /registry/create)." },
                  zip: { type: "string", format: "binary", description: "The zip bundle (at most --max-zip-bytes)." },
                },
              },
            },
          },
        },
        responses: {
          "202": answer("Queued", z.strictObject({ task_id: z.string() })),
          ...errors(400, 401, 403, 413, 503),
        },
      },
    },
    "/registry/upload/status/{taskId}": {
      get: {
        summary: "Where an upload stands: queued, processing, done (with its registry_id) or failed (with the error)",
        parameters: [pathParam("taskId")],
        responses: { "200": answer("The task", uploadStatus), ...errors(401, 404) },
      },
    },
  },
};

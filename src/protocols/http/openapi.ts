// /openapi.json is assembled from what each HTTP module describes of its own routes, with request and answer schemas
// generated from the zod schemas that validate bodies and type answers, so the document cannot drift from the code.

import { ERROR_CODES } from "@switchboard/wire";
import { z } from "zod";

type JsonSchema = Record<string, unknown>;

/** One module's share of the document: its paths, and the component schemas they `$ref`. */
export interface OpenApiPart {
  readonly paths: Record<string, Record<string, unknown>>;
  readonly schemas?: Record<string, JsonSchema>;
}

function fromZod(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** JSON Schema of a body as clients send it (the input side of the zod schema that validates it). */
export const requestSchema = (schema: z.ZodType) => fromZod(schema, "input");
/** JSON Schema of an answer (the output side of the zod schema its formatter is checked against). */
export const answerSchema = (schema: z.ZodType) => fromZod(schema, "output");

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
/** A JSON request body, validated by `schema`. */
export const body = (schema: z.ZodType) => ({ required: true, ...json(requestSchema(schema)) });
/** A JSON answer of one status. */
export const answer = (description: string, schema: z.ZodType, extra: Record<string, unknown> = {}) => ({
  description,
  ...extra,
  ...json(answerSchema(schema)),
});
/** The error statuses an operation may answer, each with the one error body. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: "Error", ...json(ref("Error")) }]));
export const q = (name: string, description: string, schema: unknown = { type: "string" }, required = false) => ({
  name,
  in: "query",
  required,
  description,
  schema,
});
export const pathParam = (name: string, schema: unknown = { type: "string" }) => ({
  name,
  in: "path",
  required: true,
  schema,
});

const codes = Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]];

/** The one error body of every error answer, with the code list of @switchboard/wire. */
export const errorBody = z.strictObject({
  error: z.strictObject({ code: z.enum(codes), message: z.string(), details: z.unknown().optional() }),
});

/** The document of every part described so far (parts are merged in the order the modules were created). */
export function openApiDocument(parts: readonly OpenApiPart[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, JsonSchema> = { Error: answerSchema(errorBody) };
  for (const part of parts) {
    for (const [path, ops] of Object.entries(part.paths)) paths[path] = { ...paths[path], ...ops };
    Object.assign(schemas, part.schemas);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchboard",
      version,
      description: "Registers published by providers, read and long-polled by consumers, changed through requests.",
    },
    paths,
    components: { schemas },
  };
}

// Validation of registry specs (create, update, upload) with zod: every failure names its field in `details`.

import { z } from "zod";
import { type JsonObject, SwitchboardError } from "../../core/index.js";

/** A registry_id becomes one path segment of its register name and of the REST paths. */
export const REGISTRY_ID = /^[A-Za-z0-9._:-]{1,200}$/;

const id = z.string().regex(REGISTRY_ID, "must be 1-200 characters of A-Z a-z 0-9 . _ - :");
const text = z.string().max(4096);
const optionalText = text.nullable().optional();
const dict = z.record(z.string().max(256), z.string().max(4096)).refine((d) => Object.keys(d).length <= 256, {
  message: "at most 256 keys",
});
const tags = z.array(z.string().min(1).max(256)).max(256);

const searchFields = {
  registry_type: optionalText,
  registry_sub_type: optionalText,
  registry_metadata: dict.optional(),
  registry_search_tags: tags.optional(),
  registry_search_description: optionalText,
};

const coreFields = {
  registry_url: optionalText,
  registry_api_index: optionalText,
  registry_documentation_s3_url: optionalText,
  registry_client_sdk_s3_url: optionalText,
  registry_acl_config_info: dict.optional(),
  registry_asset_id: optionalText,
  health_check_api: optionalText,
};

/** The embedded search block; its registry_id, when given, must repeat the record's. */
const searchDataSchema = z.strictObject({ registry_id: id.optional(), ...searchFields });

/**
 * A spec, as POST /registry/create, PUT /registry/update (where every field but registry_id is
 * optional anyway) and the upload's `spec` field take it. Unknown fields are refused.
 */
export const createSpecSchema = z.strictObject({
  registry_id: id,
  ...coreFields,
  registry_search_data: searchDataSchema.nullable().optional(),
});

export type RegistrySpec = z.output<typeof createSpecSchema>;

/** Parses a spec; failures are INVALID_BODY with one `{path, message}` per bad field. */
export function parseSpec(raw: unknown): RegistrySpec {
  const parsed = createSpecSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SwitchboardError("INVALID_BODY", "the registry spec is not valid", {
      details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  const spec = parsed.data;
  const nested = spec.registry_search_data?.registry_id;
  if (nested !== undefined && nested !== spec.registry_id) {
    throw new SwitchboardError("INVALID_BODY", "registry_search_data.registry_id must equal registry_id", {
      details: [{ path: "registry_search_data.registry_id", message: `must be ${JSON.stringify(spec.registry_id)}` }],
    });
  }
  return spec;
}

/** The spec as a plain JSON object without its undefined keys (what a register value holds). */
export function specToJson(spec: RegistrySpec): JsonObject {
  return JSON.parse(JSON.stringify(spec)) as JsonObject;
}

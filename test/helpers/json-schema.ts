// A small JSON Schema checker for the subset /openapi.json uses (type, required, properties, additionalProperties,
// items, oneOf, anyOf, $ref, enum, const, pattern).

type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Problems of `value` against `schema` (empty when it conforms); `$ref`s resolve against `root`. */
export function check(value: unknown, schema: Schema, root: Schema, path = "$"): string[] {
  if (typeof schema.$ref === "string") {
    const target = schema.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root) as Schema | undefined;
    if (!target) return [`${path}: unresolved ${schema.$ref}`];
    return check(value, target, root, path);
  }
  if (Array.isArray(schema.oneOf)) {
    const ok = (schema.oneOf as Schema[]).filter((s) => check(value, s, root, path).length === 0);
    return ok.length >= 1 ? [] : [`${path}: matches none of oneOf`];
  }
  if (Array.isArray(schema.anyOf)) {
    const ok = (schema.anyOf as Schema[]).some((s) => check(value, s, root, path).length === 0);
    if (!ok) return [`${path}: matches none of anyOf`];
  }
  const problems: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) {
      return [`${path}: expected ${types.join("|")}, got ${t}`];
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: not in enum`);
  if ("const" in schema && schema.const !== value) problems.push(`${path}: not ${JSON.stringify(schema.const)}`);
  if (typeof schema.pattern === "string" && typeof value === "string" && !new RegExp(schema.pattern).test(value)) {
    problems.push(`${path}: does not match ${schema.pattern}`);
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in obj)) problems.push(`${path}: missing ${key}`);
    }
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, sub] of Object.entries(props)) {
      if (key in obj) problems.push(...check(obj[key], sub, root, `${path}.${key}`));
    }
    const extra = schema.additionalProperties as Schema | boolean | undefined;
    for (const key of Object.keys(obj)) {
      if (key in props || extra === undefined || extra === true) continue;
      if (extra === false) problems.push(`${path}: unexpected ${key}`);
      else problems.push(...check(obj[key], extra, root, `${path}.${key}`));
    }
  }
  if (Array.isArray(value) && schema.items) {
    for (const [i, item] of value.entries())
      problems.push(...check(item, schema.items as Schema, root, `${path}[${i}]`));
  }
  return problems;
}

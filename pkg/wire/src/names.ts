// Register name and prefix rules: 1–256 characters of A-Z a-z 0-9 . _ - : /, where '/' builds the hierarchy.

export const MAX_NAME_LENGTH = 256;
export const NAME_ALPHABET = "A-Z a-z 0-9 . _ - : /";
const NAME_RE = /^[A-Za-z0-9._\-:/]{1,256}$/;
const PREFIX_RE = /^[A-Za-z0-9._\-:/]{0,256}$/;

export function isValidName(name: unknown): name is string {
  return typeof name === "string" && NAME_RE.test(name);
}

/** A prefix may be empty (everything). */
export function isValidPrefix(prefix: unknown): prefix is string {
  return typeof prefix === "string" && PREFIX_RE.test(prefix);
}

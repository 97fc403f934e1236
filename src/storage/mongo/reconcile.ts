// Reading whole collections page by page, and making a collection equal to a desired set of documents (compaction).

import { isDeepStrictEqual } from "node:util";
import type { AnyBulkWriteOperation, Collection, Document, ObjectId } from "mongodb";

/** Runs one idempotent driver call within the store's time bound, with retries. */
export type Step = <T>(what: string, op: () => Promise<T>) => Promise<T>;

export const PAGE_SIZE = 1000;

/** Every document of `coll`, in `_id` order, one bounded request per page. */
export async function readAll(coll: Collection<Document>, step: Step): Promise<Document[]> {
  const out: Document[] = [];
  let last: ObjectId | undefined;
  for (;;) {
    const filter = last === undefined ? {} : { _id: { $gt: last } };
    const page = await step(`read ${coll.collectionName}`, () =>
      coll.find(filter).sort({ _id: 1 }).limit(PAGE_SIZE).toArray(),
    );
    out.push(...page);
    if (page.length < PAGE_SIZE) return out;
    last = page[page.length - 1]!._id as ObjectId;
  }
}

export interface ReconcileCounts {
  readonly upserted: number;
  readonly deleted: number;
}

/**
 * Makes `coll` hold exactly `desired` (key → document without `_id`), keyed by the field `key`.
 * Documents already equal are left alone, so a compaction of an unchanged store writes nothing;
 * missing or different ones are replaced (upsert), and documents whose key is not desired, or
 * that repeat a key already seen (unique indexes are not enforced everywhere), are deleted.
 * Writes go in ordered bulkWrites of PAGE_SIZE operations, deletions first.
 */
export async function reconcile(
  coll: Collection<Document>,
  key: string,
  desired: ReadonlyMap<string | number, Document>,
  step: Step,
): Promise<ReconcileCounts> {
  const seen = new Set<string | number>();
  const deletes: ObjectId[] = [];
  const upserts: AnyBulkWriteOperation<Document>[] = [];
  for (const stored of await readAll(coll, step)) {
    const { _id, ...fields } = stored;
    const k = fields[key] as string | number;
    const want = desired.get(k);
    if (want === undefined || seen.has(k)) {
      deletes.push(_id as ObjectId);
      continue;
    }
    seen.add(k);
    if (!isDeepStrictEqual(fields, want)) {
      upserts.push({ replaceOne: { filter: { [key]: k }, replacement: want, upsert: true } });
    }
  }
  for (const [k, want] of desired) {
    if (!seen.has(k)) upserts.push({ replaceOne: { filter: { [key]: k }, replacement: want, upsert: true } });
  }

  const ops: AnyBulkWriteOperation<Document>[] = [];
  for (let i = 0; i < deletes.length; i += PAGE_SIZE) {
    ops.push({ deleteMany: { filter: { _id: { $in: deletes.slice(i, i + PAGE_SIZE) } } } });
  }
  ops.push(...upserts);
  for (let i = 0; i < ops.length; i += PAGE_SIZE) {
    const chunk = ops.slice(i, i + PAGE_SIZE);
    await step(`reconcile ${coll.collectionName}`, () => coll.bulkWrite(chunk, { ordered: true }));
  }
  return { upserted: upserts.length, deleted: deletes.length };
}

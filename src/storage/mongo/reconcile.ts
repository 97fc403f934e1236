// Reading whole collections page by page, and making a collection equal to a desired set of documents (compaction).

import { isDeepStrictEqual } from "node:util";
import type { AnyBulkWriteOperation, Collection, Document, ObjectId } from "mongodb";

/** Runs one idempotent driver call within the store's time bound, with retries. */
export type Step = <T>(what: string, op: () => Promise<T>) => Promise<T>;

export const PAGE_SIZE = 1000;

/**
 * The documents of `coll` in `_id` order, one page at a time: each page is one bounded, retried
 * request for the next PAGE_SIZE documents after the last `_id` seen (a cursor that survives a
 * reconnect), so a caller that consumes pages as they come holds one page, never the collection.
 */
export async function* pages(coll: Collection<Document>, step: Step): AsyncGenerator<Document[]> {
  let last: ObjectId | undefined;
  for (;;) {
    const filter = last === undefined ? {} : { _id: { $gt: last } };
    const page = await step(`read ${coll.collectionName}`, () =>
      coll.find(filter).sort({ _id: 1 }).limit(PAGE_SIZE).toArray(),
    );
    if (page.length > 0) yield page;
    if (page.length < PAGE_SIZE) return;
    last = page[page.length - 1]!._id as ObjectId;
  }
}

/** Every document of `coll` mapped by `map`, read page by page (only the mapped results are kept). */
export async function readAll<T>(coll: Collection<Document>, step: Step, map: (d: Document) => T): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages(coll, step)) for (const d of page) out.push(map(d));
  return out;
}

export interface ReconcileCounts {
  /** Documents read from the collection. */
  readonly read: number;
  readonly upserted: number;
  readonly deleted: number;
}

/**
 * Makes `coll` hold exactly the documents of `desired` (key → source, turned into a document
 * without `_id` by `toDoc` only when it is compared or written), keyed by the field `key`.
 * The collection is streamed a page at a time; documents already equal are left alone, so a
 * compaction of an unchanged store writes nothing; different ones are replaced by `_id`;
 * documents whose key is not desired, or that repeat a key already seen (unique indexes are not
 * enforced everywhere), are deleted; desired keys never seen are upserted at the end. Writes go
 * out in ordered bulkWrites of at most PAGE_SIZE operations as they accumulate, so memory holds
 * a page of documents, a batch of writes and the set of keys seen — not the collection.
 */
export async function reconcile<T>(
  coll: Collection<Document>,
  key: string,
  desired: ReadonlyMap<string | number, T>,
  toDoc: (source: T, key: string | number) => Document,
  step: Step,
): Promise<ReconcileCounts> {
  const seen = new Set<string | number>();
  let ops: AnyBulkWriteOperation<Document>[] = [];
  let deletes: ObjectId[] = [];
  const counts = { read: 0, upserted: 0, deleted: 0 };
  const flush = async (min: number) => {
    if (deletes.length > 0 && (deletes.length >= PAGE_SIZE || min === 0)) {
      ops.push({ deleteMany: { filter: { _id: { $in: deletes } } } });
      deletes = [];
    }
    if (ops.length === 0 || ops.length < min) return;
    const chunk = ops;
    ops = [];
    await step(`reconcile ${coll.collectionName}`, () => coll.bulkWrite(chunk, { ordered: true }));
  };
  for await (const page of pages(coll, step)) {
    for (const stored of page) {
      counts.read += 1;
      const { _id, ...fields } = stored;
      const k = fields[key] as string | number;
      const source = desired.get(k);
      if (source === undefined || seen.has(k)) {
        deletes.push(_id as ObjectId);
        counts.deleted += 1;
        continue;
      }
      seen.add(k);
      const want = toDoc(source, k);
      // By _id: a duplicate of this key, deleted in the same pass, can never be the one replaced.
      if (!isDeepStrictEqual(fields, want)) {
        ops.push({ replaceOne: { filter: { _id }, replacement: want } });
        counts.upserted += 1;
      }
    }
    await flush(PAGE_SIZE);
  }
  for (const [k, source] of desired) {
    if (seen.has(k)) continue;
    ops.push({ replaceOne: { filter: { [key]: k }, replacement: toDoc(source, k), upsert: true } });
    counts.upserted += 1;
    await flush(PAGE_SIZE);
  }
  await flush(0);
  return counts;
}

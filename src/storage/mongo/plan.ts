// Translates one group of mutations into one ordered list of idempotent bulkWrite operations per collection.

import type { AnyBulkWriteOperation, Document } from "mongodb";
import { isEvent, type Mutation } from "../../core/types.js";
import { COLLECTIONS, outcomeToDoc, registerToDoc, requestToDoc } from "./documents.js";
import { type MongoMirror, mirrorDocument } from "./mirror.js";

/** One of COLLECTIONS, or a mirror's collection. */
export type CollectionName = string;

export interface WritePlan {
  /** Operations per collection, in mutation order; collections without operations are absent. */
  readonly writes: ReadonlyMap<CollectionName, readonly AnyBulkWriteOperation<Document>[]>;
  /** Highest revision and request id in the group, or null when the group carries no event (refreshes only). */
  readonly counters: { readonly revision: number; readonly lastRequestId: number } | null;
}

/**
 * Every operation sets an absolute state (replace, delete, delete-up-to) or moves one field of
 * a document (refresh), so replaying a whole plan over a partly applied earlier attempt ends in
 * the same state: a failed commit can be retried with the same mutations. Operations on one
 * collection keep the mutations' order (set-then-delete of a name ends deleted); collections are
 * independent of one another, so their bulkWrites may run side by side.
 */
export function planCommit(mutations: readonly Mutation[], mirrors: readonly MongoMirror[] = []): WritePlan {
  const writes = new Map<CollectionName, AnyBulkWriteOperation<Document>[]>();
  const push = (c: CollectionName, op: AnyBulkWriteOperation<Document>): void => {
    const list = writes.get(c);
    if (list) list.push(op);
    else writes.set(c, [op]);
  };
  let revision = 0;
  let lastRequestId = 0;
  let events = 0;

  for (const m of mutations) {
    if (isEvent(m)) {
      events++;
      if (m.revision > revision) revision = m.revision;
    }
    switch (m.type) {
      case "set": {
        push(COLLECTIONS.registers, {
          replaceOne: { filter: { name: m.name }, replacement: registerToDoc(m.register), upsert: true },
        });
        for (const mirror of mirrors) {
          const key = mirror.keyOf(m.name);
          if (key === null) continue;
          push(mirror.collection, {
            replaceOne: {
              filter: { [mirror.key]: key },
              replacement: mirrorDocument(mirror, key, m.register.value),
              upsert: true,
            },
          });
        }
        break;
      }
      case "delete":
      case "expire": {
        // Pending requests leave through the ack events the core emits alongside, as in replay.
        push(COLLECTIONS.registers, { deleteMany: { filter: { name: m.name } } });
        for (const mirror of mirrors) {
          const key = mirror.keyOf(m.name);
          if (key !== null) push(mirror.collection, { deleteMany: { filter: { [mirror.key]: key } } });
        }
        break;
      }
      case "request": {
        if (m.request.id > lastRequestId) lastRequestId = m.request.id;
        push(COLLECTIONS.requests, {
          replaceOne: { filter: { id: m.request.id }, replacement: requestToDoc(m.request), upsert: true },
        });
        break;
      }
      case "ack":
        push(COLLECTIONS.requests, {
          deleteMany: { filter: { name: m.name, id: m.ids ? { $in: [...m.ids] } : { $lte: m.upTo } } },
        });
        break;
      case "finish":
        for (const o of m.outcomes) {
          push(COLLECTIONS.outcomes, {
            replaceOne: { filter: { id: o.id }, replacement: outcomeToDoc(o), upsert: true },
          });
        }
        break;
      case "deliver":
        push(COLLECTIONS.requests, {
          updateMany: { filter: { name: m.name, id: { $in: [...m.ids] } }, update: { $set: { deliveredAt: m.at } } },
        });
        break;
      case "refresh":
        push(COLLECTIONS.registers, {
          updateOne: {
            filter: { name: m.name },
            update:
              m.expiresAt === null
                ? { $set: { expiresAt: null }, $unset: { ttlMs: "" } }
                : { $set: { expiresAt: m.expiresAt, ...(m.ttlMs === undefined ? {} : { ttlMs: m.ttlMs }) } },
          },
        });
        break;
    }
  }
  return { writes, counters: events > 0 ? { revision, lastRequestId } : null };
}

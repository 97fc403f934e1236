// zod schemas of the REST answers: each is checked at compile time against its type in @switchboard/wire, and
// /openapi.json documents the answers from them (a test validates real answers against that document).

import type {
  AcksAnswer,
  ConsumerAnswer,
  DeleteAnswer,
  Json,
  ListPage,
  ProviderAnswer,
  RequestAnswer,
  RequestOutcome,
  ServerStatus,
  WireChangeRequest,
  WirePending,
  WireRegister,
  WriteAnswer,
} from "@switchboard/wire";
import { z } from "zod";

const int = z.number().int().nonnegative();
const time = z.iso.datetime();
const anyJson = z.custom<Json>(() => true);
const indexed = { index: int, epoch: z.string() };

export const pendingAnswer = z.strictObject({
  id: int,
  value: anyJson,
  requestedAt: time,
  requester: z.string().exactOptional(),
  expiresAt: time.exactOptional(),
}) satisfies z.ZodType<WirePending>;

export const registerAnswer = z.strictObject({
  name: z.string(),
  found: z.literal(true),
  value: anyJson,
  metadata: z.record(z.string(), anyJson),
  version: int,
  createRevision: int,
  modRevision: int,
  createdAt: time,
  updatedAt: time,
  expiresAt: time.nullable(),
  pending: z.array(pendingAnswer).exactOptional(),
}) satisfies z.ZodType<WireRegister>;

const missingAnswer = z.strictObject({
  name: z.string(),
  found: z.literal(false),
  pending: z.array(pendingAnswer).exactOptional(),
});

export const consumerAnswer = z.strictObject({
  ...indexed,
  resync: z.literal(true).exactOptional(),
  registers: z.array(z.union([registerAnswer, missingAnswer])),
}) satisfies z.ZodType<ConsumerAnswer>;

export const changeRequestAnswer = z.strictObject({
  id: int,
  name: z.string(),
  value: anyJson,
  requestedAt: time,
  requester: z.string().exactOptional(),
  expiresAt: time.exactOptional(),
}) satisfies z.ZodType<WireChangeRequest>;

export const providerAnswer = z.strictObject({
  ...indexed,
  resync: z.literal(true).exactOptional().describe("after was ignored (another epoch): nothing acknowledged"),
  missing: z.array(z.string()).exactOptional().describe("named registers that do not exist"),
  requests: z.array(changeRequestAnswer),
}) satisfies z.ZodType<ProviderAnswer>;

export const writeAnswer = z.strictObject({
  ...indexed,
  registers: z.array(
    z.strictObject({
      name: z.string(),
      version: int,
      modRevision: int,
      changed: z.boolean(),
      expiresAt: time.nullable(),
    }),
  ),
}) satisfies z.ZodType<WriteAnswer>;

export const deleteAnswer = z.strictObject({
  ...indexed,
  deleted: z.array(z.string()),
}) satisfies z.ZodType<DeleteAnswer>;

const outcomeFields = {
  id: int,
  name: z.string(),
  status: z.enum(["pending", "delivered", "done", "rejected", "failed", "expired", "dropped"]),
  requestedAt: time,
  requester: z.string().exactOptional(),
  finishedAt: time.exactOptional(),
  result: anyJson.exactOptional(),
  message: z.string().exactOptional(),
};

export const outcomeAnswer = z.strictObject({ ...indexed, ...outcomeFields }) satisfies z.ZodType<RequestOutcome>;

export const acksAnswer = z.strictObject({
  ...indexed,
  acks: z.array(z.union([z.strictObject(outcomeFields), z.strictObject({ id: int, status: z.literal("unknown") })])),
}) satisfies z.ZodType<AcksAnswer>;

export const requestAnswer = z.strictObject({
  ...indexed,
  requests: z.array(z.strictObject({ id: int, name: z.string() })),
}) satisfies z.ZodType<RequestAnswer>;

export const listAnswer = z.strictObject({
  ...indexed,
  registers: z.array(registerAnswer),
  cursor: z.string().nullable(),
}) satisfies z.ZodType<ListPage>;

export const healthzAnswer = z.strictObject({ status: z.literal("ok") });

const healthCache = z.unknown().describe("The health cache's state (when health checks use one)");

export const readyzAnswer = z.strictObject({
  status: z.literal("ready"),
  revision: int,
  epoch: z.string(),
  storage: z.string(),
  healthCache: healthCache.exactOptional(),
});

export const statusAnswer = z.strictObject({
  status: z.enum(["ready", "not_ready"]),
  version: z.string(),
  uptimeSeconds: int,
  revision: int,
  epoch: z.string(),
  registers: int,
  queuedRequests: int,
  waiters: z.strictObject({ consumer: int, provider: int, stream: int }),
  storage: z.strictObject({ name: z.string(), healthy: z.boolean() }),
  healthCache: healthCache.exactOptional(),
  cluster: z
    .strictObject({
      nodeId: z.string(),
      role: z.enum(["writer", "follower"]),
      term: int,
      writer: z.string().nullable(),
      appliedSequence: int,
      connected: z.boolean(),
    })
    .exactOptional()
    .describe("Only on a cluster member (--cluster): this node's role in the cluster"),
  listeners: z.array(
    z.strictObject({
      protocol: z.string(),
      transport: z.enum(["http", "tcp", "udp", "ws", "zmq"]),
      host: z.string(),
      port: int,
    }),
  ),
}) satisfies z.ZodType<ServerStatus>;

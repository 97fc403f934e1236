// The cluster store: a NATS JetStream log with one leased writer (see replicated-log.ts for what it guarantees).

export {
  type ClusterStatus,
  createReplicatedLog,
  type ReplicatedLog,
  type ReplicatedLogOptions,
} from "./replicated-log.js";

// The protocol modules the server runs, one line each, started in this order and stopped in reverse.

import { graphqlProtocol } from "./graphql/index.js";
import type { ProtocolModule } from "./protocol.js";
import { registryApiProtocol } from "./registry-api/index.js";
import { restProtocol } from "./rest/index.js";

export const PROTOCOLS: readonly ProtocolModule[] = [restProtocol, registryApiProtocol, graphqlProtocol];

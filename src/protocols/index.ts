// The protocol modules the server runs, one line each, started in this order and stopped in reverse.

import { consoleProtocol } from "./console/index.js";
import { discoveryApiProtocol } from "./discovery-api/index.js";
import { graphqlProtocol } from "./graphql/index.js";
import { jsonrpcProtocol } from "./jsonrpc/index.js";
import type { ProtocolModule } from "./protocol.js";
import { registryApiProtocol } from "./registry-api/index.js";
import { restProtocol } from "./rest/index.js";
import { rpycProtocol } from "./rpyc/index.js";
import { tcpProxyProtocol } from "./tcp-proxy/index.js";
import { zmqProtocol } from "./zmq/index.js";

export const PROTOCOLS: readonly ProtocolModule[] = [
  restProtocol,
  registryApiProtocol,
  graphqlProtocol,
  discoveryApiProtocol,
  consoleProtocol,
  tcpProxyProtocol,
  rpycProtocol,
  zmqProtocol,
  jsonrpcProtocol,
];

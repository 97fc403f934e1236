// The protocol modules the server runs, one line each, started in this order and stopped in reverse.

import type { ProtocolModule } from "./protocol.js";
import { restProtocol } from "./rest/index.js";
import { zmqProtocol } from "./zmq/index.js";

export const PROTOCOLS: readonly ProtocolModule[] = [restProtocol, zmqProtocol];

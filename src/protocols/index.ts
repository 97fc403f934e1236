// The protocol modules the server runs, one line each, started in this order and stopped in reverse.

import { consoleProtocol } from "./console/index.js";
import type { ProtocolModule } from "./protocol.js";
import { restProtocol } from "./rest/index.js";

export const PROTOCOLS: readonly ProtocolModule[] = [restProtocol, consoleProtocol];

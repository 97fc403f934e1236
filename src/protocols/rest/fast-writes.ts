// PUT /provider at node level: the provider's write without hono's Request, middleware chain and Response
// (the same checks, the same answer, the same errors as the hono route in provider.ts).

import { parseBody } from "../http/parse.js";
import { now } from "../http/respond.js";
import type { FastHandler } from "../protocol.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { providerWrite } from "./provider.js";
import { providerPutBody } from "./schemas.js";

export function fastProviderPut(ctx: RestContext): FastHandler {
  return (fr) => {
    fr.body()
      .then((text) => providerWrite(ctx, fr.principal, fr.address, parseBody(text, providerPutBody)))
      .then(
        (registers) => {
          const at = now(ctx.core);
          const body = JSON.stringify({ index: at.index, epoch: at.epoch, registers });
          fr.send(200, body, { [INDEX_HEADER]: String(at.index) });
        },
        (err: unknown) => fr.fail(err),
      );
  };
}

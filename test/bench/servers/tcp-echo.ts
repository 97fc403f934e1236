// A TCP echo server for the proxy benchmark (the target): pipes every connection back to itself. Prints {"url": "tcp://…"}.

import { createServer } from "node:net";

const server = createServer((s) => {
  s.on("error", () => undefined);
  s.pipe(s);
});
server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `tcp://127.0.0.1:${port}` })}\n`);
});
process.on("SIGTERM", () => process.exit(0));

// Raw HTTP/1.1 over a TCP socket: for requests a fetch client cannot make (bad syntax, trickled bodies, held sockets).

import { connect, type Socket } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Parses the first response in `text` (Content-Length framed, or up to the end). */
export function parseResponse(text: string): RawResponse {
  const end = text.indexOf("\r\n\r\n");
  const head = text.slice(0, end === -1 ? text.length : end).split("\r\n");
  const status = Number(head[0]?.split(" ")[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = end === -1 ? "" : text.slice(end + 4);
  const length = headers["content-length"];
  return { status, headers, body: length === undefined ? rest : rest.slice(0, Number(length)) };
}

/** An open socket to 127.0.0.1:port, with everything it received so far. */
export async function openSocket(
  port: number,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  let data = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    data += chunk;
  });
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => data, closed };
}

/** Resolves once `socket` has received a complete response head and body (or closed). */
export async function readResponse(s: Awaited<ReturnType<typeof openSocket>>): Promise<RawResponse> {
  for (;;) {
    const text = s.received();
    const end = text.indexOf("\r\n\r\n");
    if (end !== -1) {
      const r = parseResponse(text);
      const length = r.headers["content-length"];
      if (length !== undefined && Buffer.byteLength(r.body, "latin1") >= Number(length)) return r;
    }
    const more = await Promise.race([
      new Promise<boolean>((resolve) => s.socket.once("data", () => resolve(true))),
      s.closed.then(() => false),
    ]);
    if (!more) return parseResponse(s.received());
  }
}

/** Sends `request` on a new connection and reads one response. */
export async function rawRequest(port: number, request: string): Promise<RawResponse> {
  const s = await openSocket(port);
  s.socket.write(request);
  try {
    return await readResponse(s);
  } finally {
    s.socket.destroy();
  }
}

// Reads a proxy client's first line (the target id) with a byte cap and a deadline, keeping any bytes that came after it.

import type { Socket } from "node:net";

export type FirstLine =
  /** `lineBytes`: what the line took on the wire, newline included. */
  | { readonly ok: true; readonly line: string; readonly rest: Buffer; readonly lineBytes: number }
  | { readonly ok: false; readonly reason: "timeout" | "too_long" | "closed" };

/** The longest first line accepted, newline excluded. */
export const MAX_FIRST_LINE = 256;

/**
 * Resolves with the line (without `\n` or `\r\n`) and the bytes that arrived after it in the
 * same reads; those must be forwarded unchanged. The socket is left paused with no data
 * listener, so nothing is lost between here and the pipe.
 */
export function readFirstLine(socket: Socket, timeoutMs: number): Promise<FirstLine> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (r: FirstLine) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onClosed);
      socket.off("close", onClosed);
      socket.pause();
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const nl = buffered.indexOf(10);
      if (nl === -1) {
        if (buffered.length > MAX_FIRST_LINE) finish({ ok: false, reason: "too_long" });
        return;
      }
      const end = nl > 0 && buffered[nl - 1] === 13 ? nl - 1 : nl;
      if (end > MAX_FIRST_LINE) return finish({ ok: false, reason: "too_long" });
      finish({
        ok: true,
        line: buffered.subarray(0, end).toString("utf8"),
        rest: buffered.subarray(nl + 1),
        lineBytes: nl + 1,
      });
    };
    const onClosed = () => finish({ ok: false, reason: "closed" });
    const timer = setTimeout(() => finish({ ok: false, reason: "timeout" }), timeoutMs);
    socket.on("data", onData);
    socket.once("end", onClosed);
    socket.once("close", onClosed);
  });
}

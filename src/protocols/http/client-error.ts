// Requests Node's HTTP parser rejects before any route runs (bad syntax, oversized head, timeouts), answered in
// the JSON error shape instead of Node's bare status line.

import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { type ErrorCode, SwitchboardError } from "../../core/index.js";

interface ParserError extends Error {
  code?: string;
}

function classify(err: ParserError): { status: number; code: ErrorCode; message: string } {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, code: "HEADERS_TOO_LARGE", message: "the request line and headers are too large" };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, code: "REQUEST_TIMEOUT", message: "the request was not received in time" };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
    case "HPE_INVALID_CONTENT_LENGTH":
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return { status: 400, code: "MALFORMED_REQUEST", message: `the request framing is invalid (${err.code})` };
    default:
      return { status: 400, code: "MALFORMED_REQUEST", message: `the request is not valid HTTP/1.1 (${err.code})` };
  }
}

/** The server's 'clientError' handler: one JSON answer where the socket still allows it, then close. */
export function clientErrorHandler(log: Logger, count: (status: number, code: ErrorCode) => void) {
  // The parser may report more than one error for one socket: it is answered (and counted) once.
  const answered = new WeakSet<Socket>();
  return (err: ParserError, socket: Socket) => {
    if (answered.has(socket)) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    // A reset or a socket already answering (a response started) cannot take a clean answer.
    const busy = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (err.code === "ECONNRESET" || err.code === "EPIPE" || !socket.writable || busy) {
      socket.destroy();
      return;
    }
    const { status, code, message } = classify(err);
    count(status, code);
    log.debug({ code: err.code, status }, "request rejected by the HTTP parser");
    const body = JSON.stringify({ error: new SwitchboardError(code, message).toJSON() });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}

// POST /registry/upload_zip (multipart: spec text + zip file, streamed to a temp file) and GET /registry/upload/status/<task_id>.

import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import type { Context } from "hono";
import { Hono } from "hono";
import { SwitchboardError } from "../../core/index.js";
import type { UploadService } from "../../services/registry/uploads.js";
import { registryIdIn } from "./access.js";
import type { RegistryApiContext } from "./context.js";

const MAX_SPEC_BYTES = 256 * 1024;

/** What a parsed form holds: the spec text and the path of the streamed zip (both required). */
interface Form {
  spec: string | null;
  zipPath: string | null;
}

function invalid(message: string, field?: string): SwitchboardError {
  return new SwitchboardError(
    "INVALID_BODY",
    message,
    field === undefined ? {} : { details: [{ path: field, message }] },
  );
}

/**
 * Streams the form: the `zip` part goes to a temp file chunk by chunk (never held whole), `spec`
 * is read as text up to 256 KiB. Any other part, a second file or a truncated part refuses the
 * form, and the temp file is removed on every failure path.
 */
async function readForm(c: Context, uploads: UploadService): Promise<Form> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^multipart\/form-data/i.test(type)) throw invalid("the body must be multipart/form-data with spec and zip");
  const body = c.req.raw.body;
  if (!body) throw invalid("the body is empty");
  const { maxZipBytes, tempDir } = uploads.options;
  const form: Form = { spec: null, zipPath: null };
  let failure: SwitchboardError | null = null;
  const fail = (e: SwitchboardError) => {
    failure ??= e;
  };
  const writes: Promise<void>[] = [];
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": type },
      limits: { files: 1, fields: 4, parts: 6, fileSize: maxZipBytes, fieldSize: MAX_SPEC_BYTES },
    });
  } catch {
    throw invalid("the multipart Content-Type has no boundary");
  }
  parser.on("field", (name, value, info) => {
    if (name !== "spec") return fail(invalid(`unknown form field ${name}`, name));
    if (info.valueTruncated) return fail(invalid(`spec is longer than ${MAX_SPEC_BYTES} bytes`, "spec"));
    form.spec = value;
  });
  parser.on("file", (name, stream) => {
    if (name !== "zip" || form.zipPath !== null) {
      stream.resume();
      return fail(invalid(name === "zip" ? "only one zip file is accepted" : `unknown file field ${name}`, name));
    }
    const path = join(tempDir, `${randomUUID()}.zip`);
    form.zipPath = path;
    stream.on("limit", () =>
      fail(
        new SwitchboardError("BODY_TOO_LARGE", `the zip is larger than ${maxZipBytes} bytes`, {
          details: { limit: maxZipBytes },
        }),
      ),
    );
    // Settled at once, so a write that fails while the form is still being read is never unhandled.
    writes.push(
      pipeline(stream, createWriteStream(path)).catch((err: unknown) => {
        fail(invalid(`the zip could not be received: ${(err as Error).message}`, "zip"));
      }),
    );
  });
  parser.on("partsLimit", () => fail(invalid("too many form parts")));
  parser.on("filesLimit", () => fail(invalid("only one zip file is accepted", "zip")));
  parser.on("fieldsLimit", () => fail(invalid("too many form fields")));
  try {
    await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>), parser);
    await Promise.all(writes);
  } catch (err) {
    if (err instanceof SwitchboardError) fail(err);
    else fail(invalid(`the multipart body cannot be read: ${(err as Error).message}`));
  }
  if (!failure && form.spec === null) failure = invalid("the form has no spec field", "spec");
  if (!failure && form.zipPath === null) failure = invalid("the form has no zip file", "zip");
  if (failure) {
    if (form.zipPath) await rm(form.zipPath, { force: true });
    throw failure;
  }
  return form;
}

export function uploadRoutes({ uploads, count, access }: RegistryApiContext): Hono {
  const app = new Hono();

  app.post("/upload_zip", async (c) => {
    count("upload_zip");
    const form = await readForm(c, uploads);
    // The record the upload replaces is named in its spec: write on that record (an unreadable spec is the service's to refuse).
    const id = registryIdIn(safeJson(form.spec!));
    if (id !== null) {
      try {
        access(c).authorize("write", id);
      } catch (err) {
        await rm(form.zipPath!, { force: true });
        throw err;
      }
    }
    const accepted = await uploads.submit({ spec: form.spec!, zipPath: form.zipPath! });
    return c.json(accepted, 202);
  });

  app.get("/upload/status/:taskId", async (c) => {
    count("upload_status");
    return c.json(await uploads.status(c.req.param("taskId")));
  });

  return app;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

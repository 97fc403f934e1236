// The console's HTTP routes: GET /ui/* from memory with compression and caching headers, and a browser's GET / → /ui/.

import type { Context, Hono } from "hono";
import { SwitchboardError } from "../../core/index.js";
import { type Asset, pickEncoding } from "./assets.js";

// The console loads nothing from elsewhere: scripts, styles and API calls all stay on this origin.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function serve(c: Context, asset: Asset): Response {
  const headers: Record<string, string> = {
    "Content-Type": asset.type,
    ETag: asset.etag,
    "Cache-Control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    Vary: "Accept-Encoding",
    "X-Content-Type-Options": "nosniff",
  };
  if (asset.type.startsWith("text/html")) {
    headers["Content-Security-Policy"] = CSP;
    headers["Referrer-Policy"] = "no-referrer";
  }
  const match = c.req.header("If-None-Match");
  if (match?.split(",").some((t) => t.trim().replace(/^W\//, "") === asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  const encoding = pickEncoding(c.req.header("Accept-Encoding"), asset);
  const body = encoding === "br" ? asset.br! : encoding === "gzip" ? asset.gzip! : asset.identity;
  if (encoding !== "identity") headers["Content-Encoding"] = encoding;
  headers["Content-Length"] = String(body.length);
  return new Response(c.req.method === "HEAD" ? null : body, { status: 200, headers });
}

/** Mounts the console. `assets` null: switched on but not built, every /ui/ answer says so. */
export function mountConsole(app: Hono, assets: ReadonlyMap<string, Asset> | null): void {
  const notBuilt = () => {
    throw new SwitchboardError("CONSOLE_NOT_BUILT", "the web console has not been built: run `npm run build`");
  };
  // Relative asset URLs in index.html resolve against /ui/, so /ui itself must end in a slash.
  app.get("/ui", (c) => c.redirect(`/ui/${new URL(c.req.url).search}`, 301));
  app.get("/ui/*", (c) => {
    if (!assets) return notBuilt();
    const path = c.req.path.slice("/ui/".length);
    const asset = assets.get(path === "" ? "index.html" : path);
    if (!asset) throw new SwitchboardError("ROUTE_NOT_FOUND", `the console has no file ${path}`);
    return serve(c, asset);
  });
  // Only a browser (asking for HTML) is sent on; API clients keep the plain 404 they had.
  app.get("/", (c, next) => {
    if (!(c.req.header("Accept") ?? "").includes("text/html")) return next();
    return c.redirect("/ui/", 302);
  });
}

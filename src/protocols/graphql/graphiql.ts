// GraphiQL for browsers that GET /graphql: the page and its scripts and styles served from this server's own packages.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Hono } from "hono";
import { SwitchboardError } from "../../core/index.js";

export const ASSETS_PATH = "/graphql/assets";

/** The files GraphiQL needs, from the installed packages (react's UMD builds, GraphiQL's own bundle). */
const ASSETS: Readonly<Record<string, { pkg: string; file: string; type: string }>> = {
  "react.js": { pkg: "react", file: "umd/react.production.min.js", type: "text/javascript; charset=utf-8" },
  "react-dom.js": { pkg: "react-dom", file: "umd/react-dom.production.min.js", type: "text/javascript; charset=utf-8" },
  "graphiql.js": { pkg: "graphiql", file: "graphiql.min.js", type: "text/javascript; charset=utf-8" },
  "graphiql.css": { pkg: "graphiql", file: "graphiql.min.css", type: "text/css; charset=utf-8" },
};

const require = createRequire(import.meta.url);

export const GRAPHIQL_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchboard GraphiQL</title>
<link rel="stylesheet" href="${ASSETS_PATH}/graphiql.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="${ASSETS_PATH}/react.js"></script>
<script src="${ASSETS_PATH}/react-dom.js"></script>
<script src="${ASSETS_PATH}/graphiql.js"></script>
<script>
  const fetcher = async (params) => {
    const res = await fetch(location.pathname, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
      body: JSON.stringify(params),
    });
    return res.json();
  };
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: "{\\n  registriesByType(registryType: \\"tool\\") {\\n    registryId\\n    registryUrl\\n    registrySearchData { registrySearchTags }\\n  }\\n}\\n",
    }),
  );
</script>
</body>
</html>
`;

/** Mounts GET /graphql/assets/<file>: each file is read once, then answered from memory (immutable per version). */
export function mountGraphiqlAssets(app: Hono): void {
  const cache = new Map<string, Promise<Buffer>>();
  app.get(`${ASSETS_PATH}/:file`, async (c) => {
    const name = c.req.param("file");
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new SwitchboardError("ROUTE_NOT_FOUND", "no such asset");
    let body = cache.get(name);
    if (!body) {
      body = readFile(join(dirname(require.resolve(`${asset.pkg}/package.json`)), asset.file));
      body.catch(() => cache.delete(name));
      cache.set(name, body);
    }
    return c.body(new Uint8Array(await body), 200, {
      "Content-Type": asset.type,
      "Cache-Control": "public, max-age=3600",
    });
  });
}

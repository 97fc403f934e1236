// Builds the console into dist/: one fingerprinted script and stylesheet, an index.html, and .br/.gz copies.
// Usage: node scripts/build.mjs [--out DIR]   (esbuild only: runs offline from installed packages, in well under a second)

import { readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build } from "esbuild";

/** The console's first request (GET /registers, first page): fetched while the script loads. Matches src/api.ts. */
const PAGE_SIZE = 1000;
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outFlag = process.argv.indexOf("--out");
const out = outFlag === -1 ? join(root, "dist") : process.argv[outFlag + 1];
if (!out) throw new Error("usage: build.mjs [--out DIR]");

await rm(out, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(root, "src/main.tsx")],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome111", "firefox113", "safari16.4"],
  jsx: "automatic",
  jsxImportSource: "preact",
  // The client is bundled from its TypeScript source, so the console builds whether or not pkg/client was built first.
  alias: { "@switchboard/client": join(root, "../client/src/index.ts") },
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  write: true,
  legalComments: "none",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => relative(out, p).split("\\").join("/"));
const script = outputs.find((p) => p.endsWith(".js"));
const style = outputs.find((p) => p.endsWith(".css"));
if (!script || !style) throw new Error(`build produced no script or stylesheet: ${outputs.join(", ")}`);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Switchboard console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./${style}">
<link rel="preload" href="../registers?limit=${PAGE_SIZE}" as="fetch" crossorigin="anonymous">
<script type="module" src="./${script}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the Switchboard console…</p></div>
<noscript>The Switchboard console needs JavaScript.</noscript>
</body>
</html>
`;
await writeFile(join(out, "index.html"), html);

// Precompressed once here, so the server only picks a variant (brotli at its best level costs nothing at run time).
for (const file of ["index.html", ...outputs.filter((p) => !p.endsWith(".map"))]) {
  const path = join(out, file);
  const data = await readFile(path);
  const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  const gz = gzipSync(data, { level: 9 });
  if (br.length < data.length) await writeFile(`${path}.br`, br);
  if (gz.length < data.length) await writeFile(`${path}.gz`, gz);
}
process.stdout.write(`console built: ${[basename(script), basename(style)].join(", ")} → ${out}\n`);

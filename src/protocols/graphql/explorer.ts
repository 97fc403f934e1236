// A small self-contained query page for browsers that GET /graphql (no scripts or styles from elsewhere).

export const EXPLORER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchboard GraphQL</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1rem; display: grid; gap: .5rem; grid-template-columns: 1fr 1fr; }
  textarea, pre { width: 100%; min-height: 60vh; font: 13px ui-monospace, monospace; box-sizing: border-box; }
  pre { background: #f4f4f4; margin: 0; padding: .5rem; overflow: auto; }
  header { grid-column: 1 / 3; display: flex; gap: 1rem; align-items: center; }
</style>
</head>
<body>
<header><strong>Switchboard GraphQL</strong><button id="run">Run (Ctrl+Enter)</button>
<label>variables <input id="vars" size="40" value="{}"></label></header>
<textarea id="q">query {
  registriesByType(registryType: "tool") {
    registryId
    registryUrl
    registrySearchData { registrySearchTags registrySearchDescription }
  }
}</textarea>
<pre id="out"></pre>
<script>
const run = async () => {
  const out = document.getElementById("out");
  let variables;
  try { variables = JSON.parse(document.getElementById("vars").value || "{}"); }
  catch (e) { out.textContent = "variables: " + e.message; return; }
  const res = await fetch(location.pathname, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify({ query: document.getElementById("q").value, variables }),
  });
  out.textContent = JSON.stringify(await res.json(), null, 2);
};
document.getElementById("run").onclick = run;
document.addEventListener("keydown", (e) => { if (e.ctrlKey && e.key === "Enter") run(); });
</script>
</body>
</html>
`;

// Registry queries over 10,000 records: REST by-type, by-tags and a mingo filter, and GraphQL registriesByTags against REST in the same run.
// Standalone: `node --import tsx test/bench/registry.bench.ts [--quick]` prints the section; run.ts includes it in docs/benchmarks.md.

import http from "node:http";
import { fileURLToPath } from "node:url";
import { startSwitchboard } from "./lib/children.js";
import { closeAgent, requestJson } from "./lib/http.js";
import type { Section, TargetResult } from "./lib/report.js";
import { kib, ms, percentile, ratio, table } from "./lib/stats.js";

export interface RegistrySettings {
  readonly records: number;
  /** Timed requests per measure (after a warm-up of a tenth as many). */
  readonly rounds: number;
}

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = { records: 10_000, rounds: 1000 };

const TYPES = 20;
const TAGS = 200;

/** Record i: one of 20 types (500 records each) and 3 of 200 tags (~150 records per tag). */
function spec(i: number) {
  return {
    registry_url: `https://host-${i}.example.com/api`,
    registry_api_index: "/v1",
    health_check_api: `https://host-${i}.example.com/health`,
    registry_acl_config_info: { visibility: i % 2 ? "public" : "private" },
    registry_search_data: {
      registry_id: `reg-${i}`,
      registry_type: `type-${i % TYPES}`,
      registry_search_tags: [`tag-${i % TAGS}`, `tag-${(i * 7) % TAGS}`, `tag-${(i * 13) % TAGS}`],
      registry_search_description: `Registry number ${i}`,
      registry_metadata: { shard: String(i % 10) },
    },
  };
}

const GRAPHQL_BY_TAGS = `query($tags: [String]!) { registriesByTags(tags: $tags) {
  registryId registryUrl registryApiIndex registryDocumentationS3Url registryClientSdkS3Url registryAssetId healthCheckApi
  registryAclConfigInfo
  registrySearchData { registryId registryType registrySubType registryMetadata registrySearchTags registrySearchDescription }
} }`;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One request timed to the last byte of the answer (the client does not parse it: that is its own cost). */
function send(method: string, url: string, body?: unknown): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      { method, agent, headers: payload ? { "content-type": "application/json" } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            bytes: buf.length,
            text: res.statusCode === 200 ? "" : buf.toString(),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const sizes = new Map<string, number>();

function expectOk(r: { status: number; bytes: number; text: string }, what: string): void {
  if (r.status !== 200) throw new Error(`${what} answered ${r.status}: ${r.text.slice(0, 300)}`);
  sizes.set(what, r.bytes);
}

export async function runRegistryBench(settings: RegistrySettings, log: (s: string) => void): Promise<Section> {
  const server = await startSwitchboard(":memory:", "relaxed");
  try {
    const url = server.url;
    for (let start = 0; start < settings.records; start += 1000) {
      const registers = [];
      for (let i = start; i < Math.min(settings.records, start + 1000); i++) {
        registers.push({ name: `registries/reg-${i}`, value: spec(i) });
      }
      const res = await requestJson("PUT", `${url}/provider`, { registers });
      if (res.status !== 200) throw new Error(`load answered ${res.status}`);
    }
    log(`  loaded ${settings.records} records`);

    const tags = (i: number) => [`tag-${i % TAGS}`, `tag-${(i + 1) % TAGS}`];
    const measures: Record<string, (i: number) => Promise<void>> = {
      "GET /healthz (baseline route)": async () =>
        expectOk(await send("GET", `${url}/healthz`), "GET /healthz (baseline route)"),
      "GET /registry/query/by-type/<type>": async (i) =>
        expectOk(
          await send("GET", `${url}/registry/query/by-type/type-${i % TYPES}`),
          "GET /registry/query/by-type/<type>",
        ),
      "POST /registry/query/by-tags (2 tags)": async (i) =>
        expectOk(
          await send("POST", `${url}/registry/query/by-tags`, { tags: tags(i) }),
          "POST /registry/query/by-tags (2 tags)",
        ),
      "GraphQL registriesByTags (2 tags, every field)": async (i) => {
        const r = await send("POST", `${url}/graphql`, { query: GRAPHQL_BY_TAGS, variables: { tags: tags(i) } });
        expectOk(r, "GraphQL registriesByTags (2 tags, every field)");
      },
      "POST /registry/query (mingo filter, 50 of 10,000)": async (i) =>
        expectOk(
          await send("POST", `${url}/registry/query`, {
            filter: { registry_url: { $regex: `host-${i % 97}`, $options: "i" } },
            limit: 50,
          }),
          "POST /registry/query (mingo filter, 50 of 10,000)",
        ),
    };
    const names = Object.keys(measures);
    const samples = new Map<string, number[]>(names.map((n) => [n, []]));
    // Interleaved: every round runs each measure once, so load on the machine hits them alike.
    const warm = Math.ceil(settings.rounds / 10);
    for (let round = 0; round < warm + settings.rounds; round++) {
      for (const n of names) {
        const t = await timed(() => measures[n]!(round));
        if (round >= warm) samples.get(n)!.push(t);
      }
    }
    const p = (n: string, q: number) => percentile(samples.get(n)!, q);
    const [base, byType, byTags, gql, filter] = names as [string, string, string, string, string];
    const rows = names.map((n) => [
      n,
      ms(p(n, 50)),
      ms(p(n, 99)),
      ratio(p(n, 50), p(base, 50)),
      kib(sizes.get(n) ?? 0),
    ]);
    const targets: TargetResult[] = [
      {
        what: "registry by-type p99, 10,000 records",
        target: "< 5 ms",
        measured: ms(p(byType, 99)),
        pass: p(byType, 99) < 5,
      },
      {
        what: "registry by-tags p99, 10,000 records",
        target: "< 5 ms",
        measured: ms(p(byTags, 99)),
        pass: p(byTags, 99) < 5,
      },
      {
        what: "registry mingo filter p99, 10,000 records",
        target: "< 50 ms",
        measured: ms(p(filter, 99)),
        pass: p(filter, 99) < 50,
      },
      {
        what: "GraphQL registriesByTags vs REST by-tags (p50)",
        target: "≤ 1.5×",
        measured: ratio(p(gql, 50), p(byTags, 50)),
        pass: p(gql, 50) <= 1.5 * p(byTags, 50),
      },
    ];
    const body = [
      `${settings.records.toLocaleString("en-US")} records (registers \`registries/<id>\`) in one Switchboard child (\`:memory:\`),`,
      `${TYPES} types of ${settings.records / TYPES} records each, 3 of ${TAGS} tags per record (~${Math.round((settings.records * 3) / TAGS)} records per tag).`,
      `One client, keep-alive, ${settings.rounds} timed rounds after ${warm} warm-up rounds; each round runs every measure once,`,
      "so a burst of load on the machine falls on all of them alike. Times are client-side, from sending the request to",
      "the last byte of the answer. by-type answers 500 records, by-tags (2 tags) ~300, and the filter (a case-insensitive",
      "regex on registry_url, which no index narrows) evaluates all 10,000 records with mingo and answers the first 50.",
      "",
      table(["measure", "p50", "p99", "p50 vs baseline route", "answer size"], rows),
    ].join("\n");
    return { title: "5. Registry queries", body, targets };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  const settings = quick ? { records: 10_000, rounds: 200 } : DEFAULT_REGISTRY_SETTINGS;
  const section = await runRegistryBench(settings, (s) => console.log(s));
  closeAgent();
  console.log(`## ${section.title}\n\n${section.body}\n`);
  for (const t of section.targets)
    console.log(`${t.pass ? "met   " : "MISSED"} ${t.what}: ${t.measured} (target ${t.target})`);
}

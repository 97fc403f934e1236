// Services (registers services/<type>/<id>) with their health, and registry records (registries/<id>) with a search box.

import type { Json } from "@switchboard/client";
import { useCallback, useState } from "preact/hooks";
import type { Reg } from "../api.js";
import type { Session } from "../session.js";
import { prefixRange } from "../store.js";
import { formatTime, ttlLeft } from "./format.js";
import { useChanges, useNow } from "./hooks.js";

const SHOWN = 500;

type Obj = { [k: string]: Json };
const obj = (v: Json | undefined): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? v : {});
const str = (v: Json | undefined): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;

/** What metadata.health says, in whichever of the usual spellings it uses. */
function health(reg: Reg): { status: string; checkedAt?: string; latency?: string } | null {
  const h = reg.metadata.health;
  if (h === undefined) return null;
  if (typeof h === "string" || typeof h === "boolean") return { status: String(h) };
  const o = obj(h);
  const status = str(o.status) ?? (o.healthy === true ? "healthy" : o.healthy === false ? "unhealthy" : "unknown");
  const checkedAt = str(o.checkedAt) ?? str(o.lastCheck) ?? str(o.checked_at) ?? str(o.at);
  const ms = o.latencyMs ?? o.latency_ms ?? o.latency;
  return {
    status,
    ...(checkedAt === undefined ? {} : { checkedAt }),
    ...(typeof ms === "number" ? { latency: `${ms} ms` } : str(ms) ? { latency: str(ms)! } : {}),
  };
}

function HealthBadge({ reg }: { reg: Reg }) {
  const h = health(reg);
  if (!h) return <span class="muted">—</span>;
  const tone = /^(healthy|passing|ok|up|true)$/i.test(h.status)
    ? "ok"
    : /^(unknown|pending)$/i.test(h.status)
      ? "muted"
      : "bad";
  return <span class={`badge ${tone}`}>{h.status}</span>;
}

function registersUnder(session: Session, prefix: string): Reg[] {
  const { names, regs } = session.store;
  const [from, to] = prefixRange(names, prefix);
  const out: Reg[] = [];
  for (let i = from; i < to; i++) {
    const r = regs.get(names[i]!);
    if (r) out.push(r);
  }
  return out;
}

export function ServicesView({ session, onOpen }: { session: Session; onOpen: (name: string) => void }) {
  useChanges(useCallback((fn: () => void) => session.subscribe(fn), [session]));
  const now = useNow(1000);
  const [query, setQuery] = useState("");

  const byType = new Map<string, Reg[]>();
  for (const r of registersUnder(session, "services/")) {
    const [, type = "", id] = r.name.split("/");
    if (id === undefined) continue;
    const list = byType.get(type) ?? [];
    list.push(r);
    byType.set(type, list);
  }
  const records = registersUnder(session, "registries/").filter((r) => matches(r, query));

  return (
    <div class="services">
      <section class="pane" aria-label="Services">
        <h2>Services</h2>
        {byType.size === 0 ? (
          <p class="muted">
            No services registered. A service is a register <code>services/&lt;type&gt;/&lt;id&gt;</code> whose value is{" "}
            <code>{"{host, port, …}"}</code>.
          </p>
        ) : null}
        {[...byType].map(([type, list]) => (
          <div key={type} class="service-type">
            <h3>
              {type} <span class="row-count">{list.length}</span>{" "}
              <span class="muted">
                {list.filter((r) => health(r)?.status.match(/^(healthy|passing|ok|up|true)$/i)).length} healthy
              </span>
            </h3>
            <table class="table">
              <thead>
                <tr>
                  <th>id</th>
                  <th>endpoint</th>
                  <th>health</th>
                  <th>last check</th>
                  <th>latency</th>
                  <th>lease</th>
                </tr>
              </thead>
              <tbody>
                {list.slice(0, SHOWN).map((r) => {
                  const v = obj(r.value);
                  const h = health(r);
                  const endpoint = `${str(v.protocol) ? `${str(v.protocol)}://` : ""}${str(v.host) ?? "?"}:${str(v.port) ?? "?"}`;
                  return (
                    <tr key={r.name} data-service={r.name}>
                      <td>
                        <button type="button" class="link" onClick={() => onOpen(r.name)}>
                          {r.name.split("/").slice(2).join("/")}
                        </button>
                      </td>
                      <td>
                        <code>{endpoint}</code>
                      </td>
                      <td>
                        <HealthBadge reg={r} />
                      </td>
                      <td>{h?.checkedAt ? formatTime(h.checkedAt) : "—"}</td>
                      <td>{h?.latency ?? "—"}</td>
                      <td>{ttlLeft(r.expiresAt, now) ?? "no TTL"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ))}
      </section>
      <section class="pane" aria-label="Registry records">
        <h2>Registry records</h2>
        <input
          type="search"
          class="filter"
          placeholder="Search: words, or type:, tag:, url: terms"
          aria-label="Search registry records"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <table class="table">
          <thead>
            <tr>
              <th>id</th>
              <th>type</th>
              <th>url</th>
              <th>tags</th>
              <th>health</th>
            </tr>
          </thead>
          <tbody>
            {records.slice(0, SHOWN).map((r) => {
              const v = obj(r.value);
              const search = obj(v.registry_search_data);
              const tags = Array.isArray(search.registry_search_tags) ? search.registry_search_tags.join(", ") : "";
              return (
                <tr key={r.name} data-record={r.name}>
                  <td>
                    <button type="button" class="link" onClick={() => onOpen(r.name)}>
                      {str(v.registry_id) ?? r.name.slice("registries/".length)}
                    </button>
                  </td>
                  <td>{str(search.registry_type) ?? "—"}</td>
                  <td>
                    <code>{str(v.registry_url) ?? "—"}</code>
                  </td>
                  <td>{tags || "—"}</td>
                  <td>
                    <HealthBadge reg={r} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {records.length === 0 ? <p class="muted">No registry records{query ? " match" : ""}.</p> : null}
      </section>
    </div>
  );
}

/** Every term must match: `type:x`, `tag:x`, `url:x` look at those fields; a bare word anywhere in the record. */
function matches(r: Reg, query: string): boolean {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return true;
  const v = obj(r.value);
  const search = obj(v.registry_search_data);
  const text = JSON.stringify(r.value).toLowerCase();
  return terms.every((t) => {
    const [field, ...rest] = t.split(":");
    const want = rest.join(":");
    if (rest.length > 0 && field === "type")
      return `${str(search.registry_type) ?? ""} ${str(search.registry_sub_type) ?? ""}`.toLowerCase().includes(want);
    if (rest.length > 0 && field === "tag")
      return (Array.isArray(search.registry_search_tags) ? search.registry_search_tags : []).some((x) =>
        String(x).toLowerCase().includes(want),
      );
    if (rest.length > 0 && field === "url") return (str(v.registry_url) ?? "").toLowerCase().includes(want);
    return text.includes(t) || r.name.toLowerCase().includes(t);
  });
}

// The activity view: the live event log (pause, filter), its rate sparkline, and the server's figures from /status and /metrics.

import { useCallback, useEffect, useState } from "preact/hooks";
import { RATE_WINDOW } from "../activity.js";
import type { ServerStatus } from "../api.js";
import { describeError } from "../api.js";
import { type WakeFigures, wakeFigures } from "../metrics.js";
import type { Session } from "../session.js";
import { clock, formatDuration } from "./format.js";
import { useChanges, useNow } from "./hooks.js";

const TYPES = ["set", "delete", "expire", "request", "ack", "resync"] as const;
const SHOWN = 300;

export function ActivityView({ session, onOpen }: { session: Session; onOpen: (name: string) => void }) {
  const { log } = session;
  useChanges(useCallback((fn: () => void) => log.subscribe(fn), [log]));
  const now = useNow(1000);
  const [paused, setPaused] = useState<number | null>(null);
  const [text, setText] = useState("");
  const [types, setTypes] = useState<ReadonlySet<string>>(new Set(TYPES));

  const entries = log.entries;
  const upTo = paused ?? Number.POSITIVE_INFINITY;
  const shown = [];
  for (let i = entries.length - 1; i >= 0 && shown.length < SHOWN; i--) {
    const e = entries[i]!;
    if (e.seq > upTo) continue;
    if (!types.has(e.type)) continue;
    if (text && !e.name.includes(text)) continue;
    shown.push(e);
  }
  const missed = paused === null ? 0 : entries.filter((e) => e.seq > paused).length;

  return (
    <div class="activity">
      <section class="pane" aria-label="Event log">
        <div class="toolbar">
          <button
            type="button"
            aria-pressed={paused !== null}
            onClick={() => setPaused(paused === null ? (entries[entries.length - 1]?.seq ?? 0) : null)}
          >
            {paused === null ? "Pause" : `Resume (${missed} new)`}
          </button>
          <input
            type="search"
            class="filter"
            placeholder="Filter by name"
            aria-label="Filter events by register name"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </div>
        <fieldset class="types">
          <legend class="sr-only">Event types</legend>
          {TYPES.map((t) => (
            <label key={t} class={`chip ev-${t}`}>
              <input
                type="checkbox"
                checked={types.has(t)}
                onChange={(e) => {
                  const next = new Set(types);
                  if (e.currentTarget.checked) next.add(t);
                  else next.delete(t);
                  setTypes(next);
                }}
              />
              {t}
            </label>
          ))}
        </fieldset>
        <Sparkline values={log.rates(now)} />
        <ol class="log" aria-label="events, newest first">
          {shown.map((e) => (
            <li key={e.seq} class={`ev ev-${e.type}`}>
              <span class="ev-time">{clock(e.at)}</span>
              <span class="ev-type">{e.type}</span>
              <span class="ev-rev">r{e.revision}</span>
              {e.name ? (
                <button type="button" class="link ev-name" onClick={() => onOpen(e.name)}>
                  {e.name}
                </button>
              ) : null}
              <span class="ev-detail">{e.detail}</span>
            </li>
          ))}
          {shown.length === 0 ? <li class="muted">No events {paused === null ? "yet" : "before the pause"}.</li> : null}
        </ol>
      </section>
      <StatusPanel session={session} now={now} />
    </div>
  );
}

function Sparkline({ values }: { values: number[] }) {
  const max = Math.max(1, ...values);
  const w = 240;
  const h = 40;
  const points = values.map((v, i) => `${(i / (RATE_WINDOW - 1)) * w},${h - (v / max) * (h - 2) - 1}`).join(" ");
  const last = values[values.length - 1] ?? 0;
  return (
    <figure class="spark">
      <svg viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label={`events per second, last minute`}>
        <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
      </svg>
      <figcaption>
        {last} events/s now · peak {max}/s over {RATE_WINDOW}s
      </figcaption>
    </figure>
  );
}

function StatusPanel({ session, now }: { session: Session; now: number }) {
  const [status, setStatus] = useState<ServerStatus | null>(null);
  const [wake, setWake] = useState<WakeFigures[]>([]);
  const [error, setError] = useState<string | null>(null);
  const tick = Math.floor(now / 2000);
  useEffect(() => {
    const abort = new AbortController();
    Promise.all([session.api.status(abort.signal), session.api.metrics(abort.signal)]).then(
      ([s, m]) => {
        setStatus(s);
        setWake(wakeFigures(m));
        setError(null);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setError(describeError(err));
      },
    );
    return () => abort.abort();
  }, [tick]);
  const waiters =
    status === null
      ? []
      : typeof status.waiters === "number"
        ? [["waiters", status.waiters] as const]
        : Object.entries(status.waiters);
  return (
    <section class="pane figures" aria-label="Server figures">
      <h2>Server</h2>
      {error ? <p class="error">{error}</p> : null}
      {status ? (
        <dl class="facts">
          <dt>status</dt>
          <dd>{status.status}</dd>
          <dt>version</dt>
          <dd>{status.version}</dd>
          <dt>uptime</dt>
          <dd>{formatDuration(status.uptimeSeconds * 1000)}</dd>
          <dt>revision</dt>
          <dd>{status.revision}</dd>
          <dt>registers</dt>
          <dd>{status.registers.toLocaleString()}</dd>
          {status.queuedRequests === undefined ? null : (
            <>
              <dt>queued requests</dt>
              <dd>{status.queuedRequests}</dd>
            </>
          )}
          {waiters.map(([k, v]) => (
            <>
              <dt>{k === "waiters" ? "waiters" : `${k} waiters`}</dt>
              <dd>{v}</dd>
            </>
          ))}
          <dt>storage</dt>
          <dd>
            {status.storage.name} {status.storage.healthy ? "(healthy)" : "(unhealthy)"}
          </dd>
          <dt>listeners</dt>
          <dd>
            {status.listeners.map((l) => (
              <div key={`${l.protocol}${l.port}`}>
                {l.protocol} {l.transport}://{l.host}:{l.port}
              </div>
            ))}
          </dd>
        </dl>
      ) : (
        <p class="muted">Loading…</p>
      )}
      <h3>Long-poll wake latency</h3>
      {wake.length === 0 ? <p class="muted">No long-poll woken yet.</p> : null}
      <table class={`table ${wake.length === 0 ? "sr-only" : ""}`}>
        <thead>
          <tr>
            <th>kind</th>
            <th>wakes</th>
            <th>mean</th>
            <th>p50 ≤</th>
            <th>p99 ≤</th>
          </tr>
        </thead>
        <tbody>
          {wake.map((w) => (
            <tr key={w.kind}>
              <td>{w.kind}</td>
              <td>{w.count}</td>
              <td>{w.meanMs.toFixed(2)} ms</td>
              <td>{w.p50Ms === null ? "—" : `${w.p50Ms} ms`}</td>
              <td>{w.p99Ms === null ? "—" : `${w.p99Ms} ms`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

// One register: value and metadata, versions and revisions, TTL, its change requests, and the forms that write it.

import type { Json, JsonObject } from "@switchboard/client";
import { useCallback, useEffect, useState } from "preact/hooks";
import { describeError } from "../api.js";
import type { Session } from "../session.js";
import type { ConfirmFn } from "./confirm.js";
import { formatTime, ttlLeft } from "./format.js";
import { useChanges } from "./hooks.js";
import { JsonView } from "./json-view.js";

interface Props {
  readonly session: Session;
  /** null: the form for a new register. */
  readonly name: string | null;
  readonly now: number;
  readonly confirm: ConfirmFn;
  readonly onClose: () => void;
  readonly onCreated: (name: string) => void;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function parseJson(text: string, what: string): Parsed<Json> {
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch (err) {
    return { ok: false, error: `${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

export function Detail({ session, name, now, confirm, onClose, onCreated }: Props) {
  const { store, api } = session;
  useChanges(useCallback((fn: () => void) => store.subscribe(fn), [store]));
  const reg = name === null ? undefined : store.regs.get(name);
  const [newName, setNewName] = useState("");
  const [valueText, setValueText] = useState(reg ? pretty(reg.value) : "null");
  const [metaText, setMetaText] = useState(reg ? pretty(reg.metadata) : "{}");
  const [ttlText, setTtlText] = useState("");
  const [requestText, setRequestText] = useState(reg ? JSON.stringify(reg.value) : "");
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [filled, setFilled] = useState(reg !== undefined);

  // Opened before the register was loaded (a link): fill the forms once it arrives, never over the user's typing.
  useEffect(() => {
    if (filled || !reg) return;
    setFilled(true);
    setValueText(pretty(reg.value));
    setMetaText(pretty(reg.metadata));
    setRequestText(JSON.stringify(reg.value));
  }, [reg, filled]);

  // The queue as it is now; request and ack events keep it current from here on.
  useEffect(() => {
    if (name === null) return;
    const abort = new AbortController();
    api.pending(name, abort.signal).then(
      (answer) => store.setPending(name, answer.requests),
      () => undefined,
    );
    return () => abort.abort();
  }, [name]);

  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    try {
      setMessage({ kind: "ok", text: await work() });
    } catch (err) {
      setMessage({ kind: "error", text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const target = name ?? newName.trim();
    const value = parseJson(valueText, "The value");
    const metadata = parseJson(metaText, "The metadata");
    if (!value.ok) return setMessage({ kind: "error", text: value.error });
    if (!metadata.ok) return setMessage({ kind: "error", text: metadata.error });
    if (metadata.value === null || typeof metadata.value !== "object" || Array.isArray(metadata.value)) {
      return setMessage({ kind: "error", text: "The metadata must be a JSON object." });
    }
    const ttl = ttlText.trim();
    const ok = await confirm(
      name === null ? `Create ${target}?` : `Write ${target}?`,
      <>
        <p>
          Set <code>{target}</code> to:
        </p>
        <pre class="confirm-value">{pretty(value.value)}</pre>
        {ttl ? <p>with a TTL of {ttl === "0" ? "none (removes it)" : ttl}</p> : null}
      </>,
      name === null ? "Create" : "Write",
    );
    if (!ok) return;
    await run(async () => {
      const r = await api.set(target, value.value, {
        metadata: metadata.value as JsonObject,
        ...(ttl ? { ttl: /^\d+$/.test(ttl) ? Number(ttl) : ttl } : {}),
      });
      if (name === null) onCreated(target);
      return `Written: version ${r.version} at revision ${r.modRevision}.`;
    });
  };

  const remove = async () => {
    if (name === null) return;
    const ok = await confirm(
      `Delete ${name}?`,
      <p>The register and its pending change requests are removed for every consumer. This cannot be undone.</p>,
      "Delete",
      true,
    );
    if (!ok) return;
    await run(async () => {
      const deleted = await api.delete(name);
      return deleted.length > 0 ? `Deleted ${name}.` : `${name} was already gone.`;
    });
  };

  const request = async (e: Event) => {
    e.preventDefault();
    if (name === null) return;
    const value = parseJson(requestText, "The requested value");
    if (!value.ok) return setMessage({ kind: "error", text: value.error });
    await run(async () => {
      const receipt = await api.request(name, value.value);
      return `Change request #${receipt.id} queued for the provider.`;
    });
  };

  const pending = name === null ? [] : (store.pending.get(name) ?? []);
  const handled = name === null ? [] : (store.handled.get(name) ?? []);
  const ttl = reg ? ttlLeft(reg.expiresAt, now) : null;

  return (
    <section class="pane detail" aria-label={name === null ? "New register" : `Register ${name}`}>
      <header class="detail-head">
        <button type="button" class="back" onClick={onClose} aria-label="Close">
          ←
        </button>
        <h2 class="detail-name">{name ?? "New register"}</h2>
        {reg ? (
          <button type="button" class="danger" onClick={remove} disabled={busy}>
            Delete
          </button>
        ) : null}
      </header>
      {message ? (
        <p class={`message ${message.kind}`} role="status">
          {message.text}
        </p>
      ) : null}
      {name !== null && !reg ? (
        <p class="gone" role="status">
          {store.loading ? "Loading…" : "This register does not exist (deleted, expired or never written)."}
        </p>
      ) : null}
      {reg ? (
        <>
          <dl class="facts">
            <dt>version</dt>
            <dd data-testid="version">{reg.version}</dd>
            <dt>modified at revision</dt>
            <dd>{reg.modRevision}</dd>
            <dt>created at revision</dt>
            <dd>{reg.createRevision}</dd>
            <dt>updated</dt>
            <dd>{formatTime(reg.updatedAt)}</dd>
            <dt>created</dt>
            <dd>{formatTime(reg.createdAt)}</dd>
            <dt>TTL</dt>
            <dd>{ttl === null ? "none" : `${ttl} left (until ${formatTime(reg.expiresAt ?? "")})`}</dd>
          </dl>
          <h3>Value</h3>
          <JsonView value={reg.value} label="value" />
          <h3>Metadata</h3>
          <JsonView value={reg.metadata} label="metadata" />
          <h3>Change requests</h3>
          {pending.length === 0 ? <p class="muted">None pending.</p> : null}
          <ul class="requests" aria-label="pending change requests">
            {pending.map((r) => (
              <li key={r.id} class="request pending" data-request={r.id}>
                <span class="badge warn">pending</span> #{r.id} <code>{JSON.stringify(r.value)}</code>
                <span class="muted"> {formatTime(r.requestedAt)}</span>
              </li>
            ))}
            {handled.map((h) => (
              <li key={h.request.id} class="request handled" data-request={h.request.id}>
                <span class={`badge ${h.reason === "acknowledged" ? "ok" : "muted"}`}>{h.reason}</span> #{h.request.id}{" "}
                <code>{JSON.stringify(h.request.value)}</code>
              </li>
            ))}
          </ul>
          <form class="form" onSubmit={request} aria-label="Request a change">
            <label>
              Ask the provider for a new value (JSON)
              <input
                type="text"
                name="request"
                value={requestText}
                onInput={(e) => setRequestText(e.currentTarget.value)}
              />
            </label>
            <button type="submit" disabled={busy}>
              Request change
            </button>
          </form>
        </>
      ) : null}
      {name === null || reg ? (
        <form class="form" onSubmit={save} aria-label={name === null ? "Create a register" : "Edit the register"}>
          <h3>{name === null ? "Create" : "Edit"}</h3>
          {name === null ? (
            <label>
              Name
              <input
                type="text"
                name="name"
                required
                pattern="[A-Za-z0-9._:\/\-]{1,256}"
                value={newName}
                onInput={(e) => setNewName(e.currentTarget.value)}
              />
            </label>
          ) : null}
          <label>
            Value (JSON)
            <textarea name="value" rows={5} value={valueText} onInput={(e) => setValueText(e.currentTarget.value)} />
          </label>
          <label>
            Metadata (JSON object)
            <textarea name="metadata" rows={3} value={metaText} onInput={(e) => setMetaText(e.currentTarget.value)} />
          </label>
          <label>
            TTL (e.g. 30s, 5m; 0 removes it; empty keeps it)
            <input type="text" name="ttl" value={ttlText} onInput={(e) => setTtlText(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {name === null ? "Create…" : "Write…"}
          </button>
        </form>
      ) : null}
    </section>
  );
}

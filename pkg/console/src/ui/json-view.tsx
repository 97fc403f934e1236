// Pretty, collapsible JSON: objects and arrays fold; deep or long ones start folded.

import type { Json } from "@switchboard/client";
import { useState } from "preact/hooks";

const OPEN_DEPTH = 2;
const SHOWN_ITEMS = 200;

export function JsonView({ value, label }: { value: Json; label: string }) {
  return (
    <div class="json" data-json={label}>
      <JsonNode value={value} depth={0} />
    </div>
  );
}

function JsonNode({ value, depth }: { value: Json; depth: number }) {
  if (value === null || typeof value !== "object") return <Scalar value={value} />;
  return <Container value={value} depth={depth} />;
}

function Scalar({ value }: { value: Json }) {
  const kind = value === null ? "null" : typeof value;
  return <span class={`json-${kind}`}>{JSON.stringify(value)}</span>;
}

function Container({ value, depth }: { value: Json[] | { [k: string]: Json }; depth: number }) {
  const isArray = Array.isArray(value);
  const entries: [string, Json][] = isArray ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const [open, setOpen] = useState(depth < OPEN_DEPTH && entries.length <= 50);
  const [brackOpen, brackClose] = isArray ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return <span class="json-punct">{brackOpen + brackClose}</span>;
  const shown = entries.slice(0, SHOWN_ITEMS);
  return (
    <span>
      <button
        type="button"
        class="json-toggle"
        aria-expanded={open}
        title={open ? "fold" : "unfold"}
        onClick={() => setOpen(!open)}
      >
        {open ? "▾" : "▸"}
      </button>
      <span class="json-punct">{brackOpen}</span>
      {open ? (
        <ul class="json-entries">
          {shown.map(([k, v]) => (
            <li key={k}>
              {isArray ? null : <span class="json-key">{JSON.stringify(k)}: </span>}
              <JsonNode value={v} depth={depth + 1} />
            </li>
          ))}
          {entries.length > SHOWN_ITEMS ? <li class="muted">… {entries.length - SHOWN_ITEMS} more</li> : null}
        </ul>
      ) : (
        <span class="muted"> {isArray ? `${entries.length} items` : `${entries.length} keys`} </span>
      )}
      <span class="json-punct">{brackClose}</span>
    </span>
  );
}

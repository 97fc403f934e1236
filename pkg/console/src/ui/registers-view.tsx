// The registers view: a prefix filter, the virtualised tree with counts and live flashes, and the selected register.

import type { TargetedKeyboardEvent } from "preact";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Session } from "../session.js";
import { preview } from "../session.js";
import { prefixRange, type StoreChange } from "../store.js";
import { RegisterTree, type Row } from "../tree.js";
import type { ConfirmFn } from "./confirm.js";
import { Detail } from "./detail.js";
import { ttlLeft } from "./format.js";
import { useChanges, useNow } from "./hooks.js";
import { VirtualList } from "./virtual-list.js";

const ROW_HEIGHT = 30;
const FLASH_MS = 1500;

interface Props {
  readonly session: Session;
  readonly selected: string | null;
  readonly select: (name: string | null) => void;
  readonly confirm: ConfirmFn;
}

/**
 * The tree of the registers under the filter, kept current by the store's changes. The whole tree
 * is kept as long as the view lives, so clearing a filter costs nothing; a filter builds a tree of
 * its matches only.
 */
function useFilteredTree(session: Session, filter: string, choices: Map<string, boolean>): RegisterTree {
  const { store } = session;
  const [full, setFull] = useState(() => new RegisterTree(store.names, choices));
  const [filtered, setFiltered] = useState<RegisterTree | null>(null);
  // Layout effects: subscribed in the same task as the render that built the tree, so no change slips between.
  useLayoutEffect(() => {
    let current = full;
    return store.subscribe((c: StoreChange) => {
      if (c.kind === "reset") {
        current = new RegisterTree(store.names, choices);
        setFull(current);
      } else if (c.kind === "upsert" && c.created) current.insert(c.name);
      else if (c.kind === "remove") current.remove(c.name);
    });
  }, [store]);
  useLayoutEffect(() => {
    if (filter === "") return setFiltered(null);
    const build = () => {
      const [from, to] = prefixRange(store.names, filter);
      const tree = new RegisterTree(store.names.slice(from, to), choices);
      setFiltered(tree);
      return tree;
    };
    let current = build();
    return store.subscribe((c: StoreChange) => {
      if (c.kind === "reset") current = build();
      else if (c.kind === "upsert" && c.created && c.name.startsWith(filter)) current.insert(c.name);
      else if (c.kind === "remove" && c.name.startsWith(filter)) current.remove(c.name);
    });
  }, [store, filter]);
  return filter === "" ? full : (filtered ?? full);
}

export function RegistersView({ session, selected, select, confirm }: Props) {
  const { store } = session;
  useChanges(useCallback((fn: () => void) => session.subscribe(fn), [session]));
  const now = useNow(1000);
  const [filter, setFilter] = useState("");
  const [creating, setCreating] = useState(false);
  const [choices] = useState(() => new Map<string, boolean>());
  const tree = useFilteredTree(session, filter, choices);
  const [choicesVersion, setChoicesVersion] = useState(0);
  const rows: Row[] = useMemo(() => tree.rows(), [tree, store.revision, store.names.length, choicesVersion]);
  const [active, setActive] = useState(0);
  const filterBox = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA");
      if (e.key === "/" && !typing) {
        e.preventDefault();
        filterBox.current?.focus();
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  // Keep the selected register's row in view when it is selected from elsewhere (a link, the services view).
  useEffect(() => {
    if (selected === null) return;
    const i = rows.findIndex((r) => r.node.path === selected);
    if (i >= 0) setActive(i);
    else if (store.regs.has(selected) && selected.startsWith(filter)) {
      tree.reveal(selected);
      setChoicesVersion((v) => v + 1);
    }
  }, [selected, rows]);

  const toggle = (path: string, open: boolean) => {
    tree.choices.set(path, open);
    setChoicesVersion((v) => v + 1);
  };

  const activate = (row: Row) => {
    if (row.node.hasRegister) {
      setCreating(false);
      select(row.node.path);
    } else toggle(row.node.path, !row.expanded);
  };

  const onKeyDown = (e: TargetedKeyboardEvent<HTMLDivElement>) => {
    const row = rows[active];
    const move = (i: number) => {
      e.preventDefault();
      setActive(Math.max(0, Math.min(rows.length - 1, i)));
    };
    switch (e.key) {
      case "ArrowDown":
        return move(active + 1);
      case "ArrowUp":
        return move(active - 1);
      case "Home":
        return move(0);
      case "End":
        return move(rows.length - 1);
      case "PageDown":
        return move(active + 15);
      case "PageUp":
        return move(active - 15);
      case "ArrowRight":
        e.preventDefault();
        if (row && row.node.children.size > 0 && !row.expanded) toggle(row.node.path, true);
        else if (row?.expanded) setActive(active + 1);
        return;
      case "ArrowLeft": {
        e.preventDefault();
        if (!row) return;
        if (row.expanded) return toggle(row.node.path, false);
        const parent = rows.findIndex((r) => r.node === row.node.parent);
        if (parent >= 0) setActive(parent);
        return;
      }
      case "Enter":
      case " ":
        e.preventDefault();
        if (row) activate(row);
        return;
    }
  };

  const renderRow = (i: number) => {
    const row = rows[i]!;
    const { node } = row;
    const reg = node.hasRegister ? store.regs.get(node.path) : undefined;
    const changed = reg ? store.changedAt.get(node.path) : undefined;
    const flashing = changed !== undefined && performance.now() - changed < FLASH_MS;
    const ttl = reg ? ttlLeft(reg.expiresAt, now) : null;
    const pending = store.pending.get(node.path)?.length ?? 0;
    const folder = node.children.size > 0;
    const classes = ["row", i === active ? "active" : "", node.path === selected ? "selected" : ""];
    return (
      // biome-ignore lint/a11y/useKeyWithClickEvents: the tree's keys are handled by its container (aria-activedescendant)
      <div
        key={`${node.path}@${reg?.modRevision ?? 0}${flashing ? "f" : ""}`}
        id={`row-${i}`}
        class={`${classes.join(" ")}${flashing ? " flash" : ""}`}
        role="treeitem"
        tabIndex={-1}
        aria-level={node.depth + 1}
        aria-expanded={folder ? row.expanded : undefined}
        aria-selected={node.path === selected}
        data-path={node.path}
        data-depth={Math.min(node.depth, 12)}
        onClick={() => {
          setActive(i);
          activate(row);
        }}
      >
        <span class="row-toggle">{folder ? (row.expanded ? "▾" : "▸") : ""}</span>
        <span class="row-label">{node.label === "" ? "∅" : node.label}</span>
        {folder ? <span class="row-count">{node.count}</span> : null}
        {reg ? <span class="row-value">{preview(reg.value, 60)}</span> : null}
        {pending > 0 ? (
          <span class="badge warn" title="pending change requests">
            {pending} pending
          </span>
        ) : null}
        {ttl !== null ? (
          <span class="badge ttl" title={`expires ${reg?.expiresAt}`}>
            ttl {ttl}
          </span>
        ) : null}
        {reg ? <span class="row-version">v{reg.version}</span> : null}
      </div>
    );
  };

  const shown = tree.size;
  const detailOpen = creating || selected !== null;
  return (
    <div class={`registers ${detailOpen ? "with-detail" : ""}`}>
      <section class="pane list-pane" aria-label="Registers">
        <div class="toolbar">
          <input
            ref={filterBox}
            type="search"
            class="filter"
            placeholder="Filter by prefix (press /)"
            aria-label="Filter registers by name prefix"
            value={filter}
            onInput={(e) => {
              setFilter(e.currentTarget.value);
              setActive(0);
            }}
          />
          <button
            type="button"
            onClick={() => {
              select(null);
              setCreating(true);
            }}
          >
            + New
          </button>
        </div>
        <div class="summary" aria-live="polite">
          <span data-testid="shown-count">{shown.toLocaleString()}</span>
          {filter ? ` of ${store.regs.size.toLocaleString()}` : ""} registers
          {store.loading ? <span class="muted"> · loading…</span> : null}
          {session.loadError ? <span class="error"> · {session.loadError}</span> : null}
        </div>
        {rows.length === 0 ? (
          <p class="empty">
            {store.loading ? "Loading…" : filter ? "No register starts with this prefix." : "No registers yet."}
          </p>
        ) : (
          <VirtualList
            count={rows.length}
            rowHeight={ROW_HEIGHT}
            renderRow={renderRow}
            active={active}
            activeId={rows.length > 0 ? `row-${active}` : undefined}
            onKeyDown={onKeyDown}
            label="Registers by name"
          />
        )}
      </section>
      {detailOpen ? (
        <Detail
          key={creating ? "+new" : selected}
          session={session}
          name={creating ? null : selected}
          now={now}
          confirm={confirm}
          onClose={() => {
            setCreating(false);
            select(null);
          }}
          onCreated={(name) => {
            setCreating(false);
            select(name);
          }}
        />
      ) : null}
    </div>
  );
}

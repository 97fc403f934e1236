// A virtualised list of fixed-height rows: only the rows in view (plus a margin) exist in the DOM.

import type { ComponentChildren, TargetedKeyboardEvent } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

interface Props {
  readonly count: number;
  readonly rowHeight: number;
  readonly renderRow: (index: number) => ComponentChildren;
  /** The keyboard-active row: kept scrolled into view. */
  readonly active: number;
  readonly onKeyDown: (e: TargetedKeyboardEvent<HTMLDivElement>) => void;
  readonly label: string;
  readonly activeId: string | undefined;
}

const OVERSCAN = 8;

export function VirtualList({ count, rowHeight, renderRow, active, onKeyDown, label, activeId }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const inner = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight });
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    measure();
    return () => ro.disconnect();
  }, []);

  useLayoutEffect(() => {
    if (inner.current) inner.current.style.height = `${count * rowHeight}px`;
  }, [count, rowHeight]);

  useEffect(() => {
    const el = box.current;
    if (!el || active < 0) return;
    const top = active * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
  }, [active, rowHeight]);

  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  const rows: ComponentChildren[] = [];
  for (let i = first; i < last; i++) rows.push(renderRow(i));

  return (
    <div
      ref={box}
      class="vlist"
      role="tree"
      aria-label={label}
      tabIndex={0}
      aria-activedescendant={activeId}
      onScroll={(e) => setView({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight })}
      onKeyDown={onKeyDown}
    >
      <div ref={inner} class="vlist-inner">
        <RowOffset top={first * rowHeight}>{rows}</RowOffset>
      </div>
    </div>
  );
}

/** Moves the rendered slice to its place with a transform (set through the CSSOM: the page's CSP allows no inline styles). */
function RowOffset({ top, children }: { top: number; children: ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (ref.current) ref.current.style.transform = `translateY(${top}px)`;
  }, [top]);
  return (
    <div ref={ref} class="vlist-slice">
      {children}
    </div>
  );
}

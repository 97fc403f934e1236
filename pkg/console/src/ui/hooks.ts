// Small hooks: re-render once per animation frame on a source's changes, a ticking clock, the hash route.

import { useEffect, useState } from "preact/hooks";

/** Re-renders the caller at most once per frame while `subscribe`'s source keeps changing. */
export function useChanges(subscribe: (fn: () => void) => () => void): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let frame = 0;
    const off = subscribe(() => {
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          setVersion((v) => v + 1);
        });
    });
    return () => {
      off();
      cancelAnimationFrame(frame);
    };
  }, [subscribe]);
  return version;
}

/** The current time, updated every `ms` (for TTL countdowns and uptimes). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export interface Route {
  readonly view: "registers" | "activity" | "services";
  /** The selected register (registers view). */
  readonly name: string | null;
}

export function parseHash(hash: string): Route {
  const path = decodeURIComponent(hash.replace(/^#\/?/, ""));
  if (path.startsWith("activity")) return { view: "activity", name: null };
  if (path.startsWith("services")) return { view: "services", name: null };
  const rest = path.startsWith("registers/") ? path.slice("registers/".length) : "";
  return { view: "registers", name: rest === "" ? null : rest };
}

export function hashOf(route: Route): string {
  if (route.view !== "registers") return `#/${route.view}`;
  return route.name === null ? "#/registers" : `#/registers/${encodeURI(route.name)}`;
}

export function useRoute(): [Route, (r: Route) => void] {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return [
    route,
    (r) => {
      const h = hashOf(r);
      if (location.hash !== h) location.hash = h;
      setRoute(r);
    },
  ];
}

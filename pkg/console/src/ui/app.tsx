// The console's frame: header (revision, connection state, theme), the three views, the token prompt.

import { useCallback, useEffect, useState } from "preact/hooks";
import type { ConnectionState } from "../events.js";
import type { Session } from "../session.js";
import { ActivityView } from "./activity-view.js";
import { useConfirm } from "./confirm.js";
import { useChanges, useNow, useRoute } from "./hooks.js";
import { RegistersView } from "./registers-view.js";
import { ServicesView } from "./services-view.js";

type Theme = "light" | "dark";

function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => {
    const saved = localStorage.getItem("switchboard.theme");
    if (saved === "light" || saved === "dark") return saved;
    return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  });
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return [
    theme,
    () => {
      const next = theme === "dark" ? "light" : "dark";
      localStorage.setItem("switchboard.theme", next);
      setTheme(next);
    },
  ];
}

function connectionText(s: ConnectionState, now: number): string {
  switch (s.kind) {
    case "live":
      return "live";
    case "connecting":
      return "connecting…";
    case "retrying":
      return `reconnecting in ${Math.max(0, Math.ceil((s.at - now) / 1000))}s`;
    case "unauthorized":
      return "token needed";
    case "closed":
      return "closed";
  }
}

export function App({ session, onToken }: { session: Session; onToken: (token: string) => void }) {
  useChanges(useCallback((fn: () => void) => session.subscribe(fn), [session]));
  const now = useNow(1000);
  const [route, go] = useRoute();
  const [theme, toggleTheme] = useTheme();
  const [dialog, confirm] = useConfirm();
  const { store, state } = session;
  const open = (name: string) => go({ view: "registers", name });
  const tab = (view: "registers" | "activity" | "services", label: string) => (
    <a
      href={`#/${view}`}
      class={`tab ${route.view === view ? "current" : ""}`}
      aria-current={route.view === view ? "page" : undefined}
    >
      {label}
    </a>
  );
  return (
    <div class="app" data-loads={store.loads}>
      <header class="top">
        <h1 class="brand">Switchboard</h1>
        <nav class="tabs" aria-label="Views">
          {tab("registers", "Registers")}
          {tab("activity", "Activity")}
          {tab("services", "Services")}
        </nav>
        <div class="status-line">
          <span class="revision" title="latest revision seen" data-testid="revision">
            rev {store.revision}
          </span>
          <span
            class={`conn conn-${state.kind}`}
            role="status"
            data-testid="connection"
            title={state.kind === "retrying" ? state.reason : ""}
          >
            {connectionText(state, now)}
          </span>
          <button
            type="button"
            class="theme"
            onClick={toggleTheme}
            aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
          >
            {theme === "dark" ? "☀" : "☾"}
          </button>
        </div>
      </header>
      {state.kind === "unauthorized" ? <TokenPrompt onToken={onToken} /> : null}
      <main class="main">
        {route.view === "registers" ? (
          <RegistersView
            session={session}
            selected={route.name}
            select={(name) => go({ view: "registers", name })}
            confirm={confirm}
          />
        ) : route.view === "activity" ? (
          <ActivityView session={session} onOpen={open} />
        ) : (
          <ServicesView session={session} onOpen={open} />
        )}
      </main>
      {dialog}
    </div>
  );
}

/** The server wants a token: asked for here, kept for this tab only, sent as a header (never in a URL). */
function TokenPrompt({ onToken }: { onToken: (token: string) => void }) {
  const [token, setToken] = useState("");
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        if (token.trim()) onToken(token.trim());
      }}
    >
      <label>
        This server needs an access token
        <input type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
      </label>
      <button type="submit" class="primary">
        Use token
      </button>
    </form>
  );
}

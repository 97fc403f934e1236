// Entry point of the console: one session against the server that served this page.

import { render } from "preact";
import { Api } from "./api.js";
import { Session } from "./session.js";
import { App } from "./ui/app.js";
import "./styles.css";

const TOKEN_KEY = "switchboard.token";
// The API is the folder above /ui/: this keeps working behind a proxy that serves the server under a path.
const base = new URL("../", location.href).href.replace(/\/$/, "");
const api = new Api(base, sessionStorage.getItem(TOKEN_KEY) ?? undefined);
const session = new Session(api);
session.start();

render(
  <App
    session={session}
    onToken={(token) => {
      sessionStorage.setItem(TOKEN_KEY, token);
      api.setToken(token);
      session.retryNow();
    }}
  />,
  document.getElementById("app")!,
);

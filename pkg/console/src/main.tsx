// Entry point of the console: one session against the server that served this page.

import { render } from "preact";
import { Api } from "./api.js";
import { Session } from "./session.js";
import { App } from "./ui/app.js";
import "./styles.css";

const TOKEN_KEY = "switchboard.token";
const api = new Api(location.origin, sessionStorage.getItem(TOKEN_KEY) ?? undefined);
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

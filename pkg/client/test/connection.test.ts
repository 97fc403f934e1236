// The client's connection state machine alone: transitions, stale failures, next attempt, epoch changes, wake-ups.

import { describe, expect, it } from "vitest";
import { Connection, type ConnectionStatus } from "#src/connection.js";
import type { Runtime } from "#src/runtime.js";
import { countingTimers } from "./helpers.js";

function setup() {
  let now = 1_000;
  const timers = countingTimers();
  const rt: Runtime = { timers: timers.timers, now: () => now, random: () => 0.5 };
  const c = new Connection(rt);
  const seen: ConnectionStatus[] = [];
  c.onStateChange((s) => seen.push(s));
  return { c, seen, timers, tick: (ms: number) => (now += ms), now: () => now };
}

describe("Connection", () => {
  it("connecting → connected → reconnecting → connected, with the error and the earliest retry", () => {
    const { c, seen, tick, now } = setup();
    expect(c.status.state).toBe("connecting");
    c.answered("e1", c.begin());
    expect(c.status).toMatchObject({ state: "connected", epoch: "e1" });
    const boom = new Error("refused");
    c.failed(boom, c.begin());
    expect(c.status).toMatchObject({ state: "reconnecting", lastError: boom });
    c.retrying(now() + 500);
    c.retrying(now() + 200); // another loop retries sooner
    c.retrying(now() + 900);
    expect(c.status.nextAttemptAt).toBe(now() + 200);
    tick(300); // the attempt due at +200 went out (and failed): the next one is the earliest still to come
    c.retrying(now() + 700);
    expect(c.status.nextAttemptAt).toBe(now() + 700);
    c.answered("e1", c.begin());
    expect(c.status).toMatchObject({ state: "connected", lastError: undefined, nextAttemptAt: undefined });
    expect(seen.map((s) => s.state)).toEqual([
      "connected",
      "reconnecting",
      "reconnecting",
      "reconnecting",
      "reconnecting",
      "connected",
    ]);
  });

  it("ignores a failure of an exchange that started before the latest answer", () => {
    const { c } = setup();
    const old = c.begin();
    const fresh = c.begin();
    c.answered("e1", fresh);
    c.failed(new Error("late"), old);
    expect(c.status.state).toBe("connected");
  });

  it("tells epoch listeners about a change, not about the first epoch", () => {
    const { c } = setup();
    const changes: [string, string][] = [];
    c.onEpochChange((epoch, previous) => changes.push([epoch, previous]));
    c.answered("e1", c.begin());
    c.answered("e1", c.begin());
    c.answered(null, c.begin()); // a proxy's answer without the header changes nothing
    c.answered("e2", c.begin());
    expect(changes).toEqual([["e2", "e1"]]);
    expect(c.status.epoch).toBe("e2");
  });

  it("wakes sleepers when the server answers again, and leaves no timer", async () => {
    const { c, timers } = setup();
    c.failed(new Error("down"), c.begin());
    const controller = new AbortController();
    let woke = false;
    const sleeping = c.sleep(60_000, controller.signal).then(() => {
      woke = true;
    });
    expect(timers.active()).toBe(1);
    c.answered("e1", c.begin());
    await sleeping;
    expect(woke).toBe(true);
    expect(timers.active()).toBe(0);
  });

  it("closed is final", () => {
    const { c } = setup();
    c.close();
    c.answered("e1", c.begin());
    c.failed(new Error("x"), c.begin());
    expect(c.status.state).toBe("closed");
  });
});

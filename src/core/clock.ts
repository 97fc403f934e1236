// The real clock: Date.now and the runtime's timers, unref'd so that they never hold the process open.

import type { Clock, TimerHandle } from "./ports.js";

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    if (typeof t === "object" && t !== null && "unref" in t && typeof t.unref === "function") t.unref();
    return t as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  },
};

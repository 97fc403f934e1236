// Readiness: whether the server may take traffic (loaded, not stopping, storage healthy), in one place.

import { type Switchboard, SwitchboardError } from "../core/index.js";

export interface Readiness {
  readonly ready: boolean;
  readonly storage: string;
  readonly storageHealthy: boolean;
  /** The health cache: a backend that is down degrades checks to live probes, it does not make the server unready. */
  readonly healthCache: { readonly backend: string; readonly reachable: boolean };
}

export class ReadinessCheck {
  readonly #core: Switchboard;
  readonly #started: () => boolean;
  readonly #healthCache: () => Readiness["healthCache"];

  constructor(core: Switchboard, started: () => boolean, healthCache: () => Readiness["healthCache"]) {
    this.#core = core;
    this.#started = started;
    this.#healthCache = healthCache;
  }

  status(): Readiness {
    const storageHealthy = this.#core.storageHealthy();
    return {
      ready: this.#started() && !this.#core.closing && storageHealthy,
      storage: this.#core.storageName,
      storageHealthy,
      healthCache: this.#healthCache(),
    };
  }

  /** Throws the coded reason when not ready (NOT_READY, STORAGE_UNAVAILABLE). */
  assertReady(): Readiness {
    const s = this.status();
    if (!this.#started() || this.#core.closing) {
      throw new SwitchboardError("NOT_READY", "the server is starting or stopping");
    }
    if (!s.storageHealthy) {
      throw new SwitchboardError("STORAGE_UNAVAILABLE", `the ${s.storage} store is not accepting writes`);
    }
    return s;
  }
}

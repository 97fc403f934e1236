// @switchboard/client/react: hooks that keep a component in step with a register (or a prefix) through the
// client's shared long-poll. React is a peer dependency: this entry point imports it, the core bundle never does.

import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import type { SwitchboardConsumer } from "./consumer-client.js";
import type { StandardSchemaV1 } from "./schema.js";
import type { NameSubscription, PrefixSubscription } from "./subscription.js";
import type { ConsumeItem, FoundItem, Json, RequestReceipt } from "./types.js";

/** What the hooks need of a client: a SwitchboardClient or a SwitchboardConsumer. */
export type ConsumingClient = Pick<SwitchboardConsumer, "consume" | "onStateChange">;

export interface UseRegisterOptions<T> {
  /** Checks every value (Standard Schema: zod, valibot, arktype …); an invalid one becomes `error`. */
  readonly schema?: StandardSchemaV1<unknown, T>;
  /** False: no subscription (the name leaves the shared poll); the state reads as loading. Default true. */
  readonly enabled?: boolean;
}

interface Common {
  /** True until the first state arrives (and while `enabled` is false). */
  readonly loading: boolean;
  /** True while what is shown may be out of date: no first state yet, or the client is reconnecting. */
  readonly stale: boolean;
  /** Why the subscription ended (a 4xx such as FORBIDDEN, an invalid value); undefined while it runs. */
  readonly error: unknown;
}

export interface RegisterState<T = Json> extends Common {
  /** The register's value; undefined before the first state and while the register does not exist. */
  readonly value: T | undefined;
  /** The whole state last received (found or not, version, metadata, expiresAt …). */
  readonly item: ConsumeItem<T> | undefined;
  /** Asks the register's provider for a change (PUT /consumer); rejects while not subscribed. */
  readonly request: (value: Json) => Promise<RequestReceipt>;
}

export interface RegistersState<T = Json> extends Common {
  /** The registers under the prefix, by name; a new Map after each change, the same one otherwise. */
  readonly registers: ReadonlyMap<string, FoundItem<T>>;
}

type AnySubscription<T> = NameSubscription<T> | PrefixSubscription<T>;

interface Live<S> {
  readonly sub: S | undefined;
  readonly ready: boolean;
  readonly error: unknown;
  readonly stale: boolean;
}

const IDLE: Live<never> = { sub: undefined, ready: false, error: undefined, stale: true };
const NO_REGISTERS: ReadonlyMap<string, never> = new Map<string, never>();
const noop = () => {};

/**
 * Opens a subscription in an effect (never during render, so StrictMode and server rendering open
 * nothing twice or at all), closes it on unmount or when `key` changes, and re-renders on every
 * change of its `current`, on its end, and when the connection goes up or down.
 */
function useSubscription<S extends AnySubscription<unknown>>(
  client: ConsumingClient,
  open: (() => S) | null,
  key: readonly unknown[],
): { live: Live<S>; current: S["current"] | undefined } {
  const [live, setLive] = useState<Live<S>>(IDLE);
  // `key` lists what `open` depends on (a new closure each render): the subscription is reopened only when it changes.
  useEffect(() => {
    if (open === null) {
      setLive(IDLE);
      return;
    }
    const sub = open();
    let active = true;
    const update = (change: Partial<Live<S>>) => {
      if (active) setLive((l) => (l.sub === sub ? { ...l, ...change, stale: sub.stale } : l));
    };
    setLive({ sub, ready: false, error: undefined, stale: sub.stale });
    sub.ready.then(
      () => update({ ready: true }),
      (error: unknown) => update({ error }),
    );
    // Reading the items keeps the subscription's buffer drained and surfaces a failure after the first state.
    const reader = sub.subscribe({ error: (error: unknown) => update({ error }) });
    const offState = client.onStateChange(() => update({}));
    return () => {
      active = false;
      offState();
      // Closes the subscription at once: the name (or prefix) leaves the shared poll.
      reader.unsubscribe();
    };
  }, [client, ...key]);
  const sub = live.sub;
  const subscribe = useCallback((listener: () => void) => (sub ? sub.onChange(listener) : noop), [sub]);
  const snapshot = () => sub?.current as S["current"] | undefined;
  const current = useSyncExternalStore(subscribe, snapshot, snapshot);
  return { live, current };
}

/**
 * The state of one register, kept current through the client's shared long-poll: the component
 * re-renders when the register changes, and on unmount the name leaves the poll.
 */
export function useRegister<T = Json>(
  client: ConsumingClient,
  name: string,
  options: UseRegisterOptions<T> = {},
): RegisterState<T> {
  const { schema, enabled = true } = options;
  const { live, current } = useSubscription<NameSubscription<T>>(
    client,
    enabled ? () => client.consume<T>(name, schema === undefined ? {} : { schema }) : null,
    [name, schema, enabled],
  );
  const sub = live.sub;
  const request = useCallback(
    (value: Json) =>
      sub ? sub.request(value) : Promise.reject(new Error(`useRegister(${JSON.stringify(name)}) is not subscribed`)),
    [sub, name],
  );
  const item = current ?? undefined;
  return {
    value: item?.found ? item.value : undefined,
    item,
    loading: !live.ready && live.error === undefined,
    stale: live.stale || !live.ready,
    error: live.error,
    request,
  };
}

/** Every register under a prefix, kept current like useRegister; `registers` is a Map by name. */
export function useRegisters<T = Json>(
  client: ConsumingClient,
  prefix: string,
  options: UseRegisterOptions<T> = {},
): RegistersState<T> {
  const { schema, enabled = true } = options;
  const { live, current } = useSubscription<PrefixSubscription<T>>(
    client,
    enabled ? () => client.consume<T>({ prefix }, schema === undefined ? {} : { schema }) : null,
    [prefix, schema, enabled],
  );
  return {
    registers: current ?? (NO_REGISTERS as ReadonlyMap<string, FoundItem<T>>),
    loading: !live.ready && live.error === undefined,
    stale: live.stale || !live.ready,
    error: live.error,
  };
}

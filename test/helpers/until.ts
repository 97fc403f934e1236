// A bounded wait for a condition only observable from outside (a metric, a server's stats, what a client got).

/** Resolves once `check` holds; throws `timed out waiting for <what>` after `ms`. Checks every 20 ms. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${ms} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

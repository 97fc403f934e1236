// The protocol audit over REST, against a real server on port 0.

import { metricValue, startTestServer } from "../helpers/server.js";
import { describeProtocolAudit, type ProtocolDriver } from "./protocol-audit.js";

describeProtocolAudit("rest", async () => {
  const srv = await startTestServer({ config: { maxValueBytes: 100 } });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${srv.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as any;
    if (res.status >= 400) throw Object.assign(new Error(json.error.message), { code: json.error.code });
    return json;
  };
  const q = (key: string, names: string[]) => names.map((n) => `${key}=${encodeURIComponent(n)}`).join("&");
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error("bad input was accepted");
      },
      (err: { code: string }) => err.code,
    );
  const driver: ProtocolDriver = {
    set: (registers) => call("PUT", "/provider", { registers }),
    read: (names, index, waitMs) =>
      call("GET", `/consumer?${q("name", names)}${index === undefined ? "" : `&index=${index}&wait=${waitMs ?? 0}ms`}`),
    remove: async (names) => {
      await call("DELETE", `/provider?${q("name", names)}`);
    },
    request: async (name, value) => (await call("PUT", "/consumer", { name, value })).requests[0],
    pollRequests: (names, after, waitMs) =>
      call("GET", `/provider?${q("name", names)}&after=${after}&wait=${waitMs}ms`),
    badInput: (kind) => {
      switch (kind) {
        case "invalid_name":
          return codeOf(call("PUT", "/provider", { name: "no spaces allowed", value: 1 }));
        case "value_too_large":
          return codeOf(
            call("PUT", "/provider", {
              registers: [
                { name: "audit/a", value: 9 },
                { name: "audit/x", value: "x".repeat(200) },
              ],
            }),
          );
        case "unknown_register":
          return codeOf(call("PUT", "/consumer", { name: "audit/nobody", value: 1 }));
        case "invalid_batch":
          return codeOf(
            call("PUT", "/provider", {
              registers: [
                { name: "audit/b", value: 7 },
                { name: "audit/b", value: 8 },
              ],
            }),
          );
      }
    },
  };
  return {
    driver,
    waiters: async () =>
      (await metricValue(srv.url, "switchboard_waiters", { kind: "consumer" })) +
      (await metricValue(srv.url, "switchboard_waiters", { kind: "provider" })),
    close: () => srv.dispose(),
  };
});

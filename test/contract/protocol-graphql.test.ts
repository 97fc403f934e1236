// The protocol audit over GraphQL (setRegisters, consumerPoll, deleteRegisters, requestChange, pollRequests), against a real server on port 0.

import { metricValue, startTestServer } from "../helpers/server.js";
import { type AuditRegister, describeProtocolAudit, type ProtocolDriver } from "./protocol-audit.js";

describeProtocolAudit("graphql", async () => {
  const srv = await startTestServer({ config: { maxValueBytes: 100 } });
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${srv.url}/graphql`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const json = (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
    const err = json.errors?.[0];
    if (err) throw Object.assign(new Error(err.message), { code: err.extensions?.code });
    return json.data;
  };
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error("bad input was accepted");
      },
      (err: { code: string }) => err.code,
    );
  const SET = `mutation($r: [SetRegisterInput!]!) { setRegisters(registers: $r) { index } }`;
  const driver: ProtocolDriver = {
    set: async (registers) =>
      (
        await gql(SET, {
          r: registers.map((r) => ({
            name: r.name,
            value: r.value,
            ...(r.ttl ? { ttlMs: Number.parseFloat(r.ttl) * 1000 } : {}),
          })),
        })
      ).setRegisters,
    read: async (names, index, waitMs) => {
      const d = await gql(
        `query($n: [String!], $i: Float, $w: Int) { consumerPoll(names: $n, index: $i, waitMs: $w) {
          index registers { name found register { value version } } } }`,
        { n: names, i: index ?? null, w: waitMs ?? 0 },
      );
      return {
        index: d.consumerPoll.index,
        registers: d.consumerPoll.registers.map(
          (r: { name: string; found: boolean; register: { value: unknown; version: number } | null }): AuditRegister =>
            r.register
              ? { name: r.name, found: true, value: r.register.value, version: r.register.version }
              : { name: r.name, found: false },
        ),
      };
    },
    remove: async (names) => {
      await gql(`mutation($n: [String!]!) { deleteRegisters(names: $n) }`, { n: names });
    },
    request: async (name, value) =>
      (
        await gql(`mutation($n: String!, $v: JSON) { requestChange(name: $n, value: $v) { id } }`, {
          n: name,
          v: value,
        })
      ).requestChange,
    pollRequests: async (names, after, waitMs) =>
      (
        await gql(
          `mutation($n: [String!], $a: Float, $w: Int) { pollRequests(names: $n, after: $a, waitMs: $w) { index requests { id value } } }`,
          { n: names, a: after, w: waitMs },
        )
      ).pollRequests,
    badInput: (kind) => {
      switch (kind) {
        case "invalid_name":
          return codeOf(gql(SET, { r: [{ name: "no spaces allowed", value: 1 }] }));
        case "value_too_large":
          return codeOf(
            gql(SET, {
              r: [
                { name: "audit/a", value: 9 },
                { name: "audit/x", value: "x".repeat(200) },
              ],
            }),
          );
        case "unknown_register":
          return codeOf(gql(`mutation { requestChange(name: "audit/nobody", value: 1) { id } }`));
        case "invalid_batch":
          return codeOf(
            gql(SET, {
              r: [
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

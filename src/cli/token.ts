// `switchboard token create|list|revoke` and `switchboard policy put|list|delete`: ACL management through /acl (admin token).

import { type Command, EXIT_OK, parse, positionals, UsageError } from "./command.js";
import { CLIENT_OPTIONS, clientFor, optionsHelp, parseValue } from "./commands.js";
import { table } from "./output.js";

interface TokenJson {
  id: string;
  description: string;
  policies: string[];
  createdAt: string;
}

export const tokenCommand: Command = {
  name: "token",
  summary: "create, list and revoke access tokens (admin)",
  help: `Usage: switchboard token create --policy P [--policy P2 ...] [--description TEXT]
       switchboard token list
       switchboard token revoke ID

Manages tokens through /acl/tokens; the calling token must be an admin's (--token or
$SWITCHBOARD_TOKEN; the first one is in <data-dir>/admin.token). "create" prints the new
token once: it is stored only as a hash and cannot be shown again.

${optionsHelp([
  ["--policy P", "a policy the token holds (repeatable; see switchboard policy)"],
  ["--description TEXT", "what the token is for"],
])}

Examples:
  switchboard token create --policy fleet --description "thermostats, building A"
  switchboard token list
  switchboard token revoke 3f9a0c1d2e4b5a67`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: { ...CLIENT_OPTIONS, policy: { type: "string", multiple: true }, description: { type: "string" } },
      allowPositionals: true,
    });
    const [action, ...args] = rest;
    const client = clientFor(values, io);
    if (action === "create") {
      positionals(args, 0, 0, "");
      if (!values.policy || values.policy.length === 0) throw new UsageError("token create needs --policy");
      const body: Record<string, unknown> = { policies: values.policy };
      if (values.description !== undefined) body.description = values.description;
      const made = await client.json<TokenJson & { token: string }>("POST", "/acl/tokens", { body });
      if (values.json) io.out(JSON.stringify(made));
      else {
        io.out(made.token);
        io.err(`token ${made.id} created; it is shown only this once`);
      }
      return EXIT_OK;
    }
    if (action === "list") {
      positionals(args, 0, 0, "");
      const { tokens } = await client.json<{ tokens: TokenJson[] }>("GET", "/acl/tokens");
      if (values.json) io.out(JSON.stringify({ tokens }));
      else {
        const rows = tokens.map((t) => [t.id, t.policies.join(","), t.createdAt, t.description]);
        for (const line of table(["ID", "POLICIES", "CREATED", "DESCRIPTION"], rows, io.columns)) io.out(line);
      }
      return EXIT_OK;
    }
    if (action === "revoke") {
      const [id] = positionals(args, 1, 1, "ID") as [string];
      await client.json("DELETE", `/acl/tokens/${encodeURIComponent(id)}`);
      io.out(`revoked ${id}`);
      return EXIT_OK;
    }
    throw new UsageError(`expected create, list or revoke, got ${JSON.stringify(action ?? "")}`);
  },
};

export const policyCommand: Command = {
  name: "policy",
  summary: "define, list and delete ACL policies (admin)",
  help: `Usage: switchboard policy put NAME RULES_JSON [--description TEXT]
       switchboard policy list
       switchboard policy delete NAME

A policy is a list of rules {prefix, read?, write?, request?, provide?, admin?, metrics?, status?}
over register names; a token holds policies. Names under _sys/ are reachable by admins only.

${optionsHelp([["--description TEXT", "what the policy is for"]])}

Examples:
  switchboard policy put fleet '[{"prefix":"devices/","write":true,"provide":true}]'
  switchboard policy put dashboard '[{"prefix":"","read":true,"request":true}]'`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: { ...CLIENT_OPTIONS, description: { type: "string" } },
      allowPositionals: true,
    });
    const [action, ...args] = rest;
    const client = clientFor(values, io);
    if (action === "put") {
      const [name, rulesText] = positionals(args, 2, 2, "NAME and RULES_JSON") as [string, string];
      const rules = parseValue(rulesText);
      if (!Array.isArray(rules)) throw new UsageError("RULES_JSON must be a JSON array of rules");
      const body: Record<string, unknown> = { rules };
      if (values.description !== undefined) body.description = values.description;
      const saved = await client.json("PUT", `/acl/policies/${encodeURIComponent(name)}`, { body });
      io.out(values.json ? JSON.stringify(saved) : `policy ${name} saved`);
      return EXIT_OK;
    }
    if (action === "list") {
      positionals(args, 0, 0, "");
      const { policies } = await client.json<{ policies: { name: string; rules: unknown[] }[] }>(
        "GET",
        "/acl/policies",
      );
      if (values.json) io.out(JSON.stringify({ policies }));
      else for (const p of policies) io.out(`${p.name}  ${JSON.stringify(p.rules)}`);
      return EXIT_OK;
    }
    if (action === "delete") {
      const [name] = positionals(args, 1, 1, "NAME") as [string];
      await client.json("DELETE", `/acl/policies/${encodeURIComponent(name)}`);
      io.out(`deleted ${name}`);
      return EXIT_OK;
    }
    throw new UsageError(`expected put, list or delete, got ${JSON.stringify(action ?? "")}`);
  },
};

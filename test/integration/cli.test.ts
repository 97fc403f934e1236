// The `switchboard` binary as a user runs it: a child process against a real server, exit codes and output.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { envName, flagName, SETTINGS } from "../../src/config.js";
import { CgseClient, cgseEndpoints } from "../helpers/cgse-client.js";
import { metricValue, startTestServer, TEST_PROTOCOL_DEFAULTS, type TestServer } from "../helpers/server.js";
import { makeTempDir } from "../helpers/temp-dir.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const COMMANDS = [
  "serve",
  "status",
  "list",
  "get",
  "put",
  "request",
  "watch",
  "delete",
  "services",
  "check",
  "repair",
  "token",
  "policy",
];

/** Lines of a child's output stream, with a wait for the first line that matches. */
class Lines {
  readonly lines: string[] = [];
  #partial = "";
  #ended = false;
  readonly #listeners = new Set<() => void>();

  constructor(stream: Readable) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (this.#partial + chunk).split("\n");
      this.#partial = parts.pop() ?? "";
      this.lines.push(...parts);
      for (const l of [...this.#listeners]) l();
    });
    stream.on("end", () => {
      if (this.#partial) this.lines.push(this.#partial);
      this.#partial = "";
      this.#ended = true;
      for (const l of [...this.#listeners]) l();
    });
  }

  get text(): string {
    return [...this.lines, this.#partial].join("\n");
  }

  waitFor(match: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      const check = () => {
        const hit = this.lines.find(match);
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (this.#ended) {
          done();
          reject(new Error(`the stream ended without a matching line; it was:\n${this.text}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching line within ${timeoutMs} ms; got:\n${this.text}`));
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }
}

interface Cli {
  readonly child: ChildProcess;
  readonly stdout: Lines;
  readonly stderr: Lines;
  /** Resolves once the process has exited and its output is closed. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
let server: TestServer;

/** The environment of a child: no SWITCHBOARD_* of ours leaks in; the URL is the test server's. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SWITCHBOARD_") && k !== "MONGO_URI") env[k] = v;
  // Servers started by `serve` take ephemeral ports for every dialect that is on by default.
  for (const key of Object.keys(TEST_PROTOCOL_DEFAULTS)) env[envName(key)] = "0";
  return { ...env, SWITCHBOARD_URL: server.url, ...extra };
}

function startCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, ["dist/cli.js", ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, stdout: new Lines(child.stdout!), stderr: new Lines(child.stderr!), closed };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const p = startCli(args, env);
  const { code } = await p.closed;
  return { code, stdout: p.stdout.text.trim(), stderr: p.stderr.text.trim() };
}

/** Runs many CLI invocations two at a time: each is a Node process compiling TypeScript, so more only contend. */
type CliResult = Awaited<ReturnType<typeof cli>>;

async function cliAll<const T extends readonly (readonly string[])[]>(
  cases: T,
): Promise<{ [K in keyof T]: CliResult }> {
  const results: CliResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await cli([...cases[i]!]);
    }
  };
  await Promise.all([worker(), worker()]);
  return results as { [K in keyof T]: CliResult };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Polls a condition across processes (there is no event to await there), failing after the timeout. */
async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const put = (url: string, body: unknown) =>
  fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
const read = (url: string, name: string) =>
  fetch(`${url}/consumer?name=${encodeURIComponent(name)}`).then((r) => r.json() as Promise<any>);
/** A JSON output line, or {} for any other line (so a match never throws). */
function parseLine(line: string): any {
  try {
    return JSON.parse(line);
  } catch {
    return {};
  }
}

beforeAll(async () => {
  server = await startTestServer({ dataDir: ":memory:" });
});

afterEach(() => {
  for (const child of running) child.kill("SIGKILL");
});

afterAll(async () => {
  await server.dispose();
});

// Every test spawns Node processes that compile TypeScript on start: slow on a busy machine.
const SLOW = { timeout: 90_000 };

describe("usage", SLOW, () => {
  it("prints usage and exits 2 without a command, 0 for --help, -h and every command's --help", async () => {
    const [none, help, short, ...perCommand] = await cliAll([
      [],
      ["--help"],
      ["-h"],
      ...COMMANDS.map((c) => [c, "--help"]),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: switchboard <command>");
    expect(help.code).toBe(0);
    expect(short.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c} `);
    perCommand.forEach((r, i) => {
      expect(r.code, COMMANDS[i]).toBe(0);
      expect(r.stdout).toContain(`Usage: switchboard ${COMMANDS[i]}`);
    });
  });

  it("exits 2 on an unknown command or flag, a missing argument or a malformed option", async () => {
    const cases = [
      ["bogus"],
      ["--bogus"],
      ["get"],
      ["get", "--bogus", "a"],
      ["put", "a"],
      ["put"],
      ["request", "a"],
      ["delete"],
      ["watch"],
      ["list", "--limit", "x"],
      ["list", "extra"],
      ["put", "a", "1", "--metadata", "[1]"],
      ["get", "a", "--url", "not a url"],
      ["serve", "--bogus"],
      ["status", "--url"],
    ];
    const results = await cliAll(cases);
    results.forEach((r, i) => {
      expect(r.code, cases[i]!.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/--help" for usage/);
      expect(r.stdout).toBe("");
    });
  });

  it("lists every config key as a serve flag with its description, and docs/cli.md covers every command", async () => {
    const { code, stdout } = await cli(["serve", "--help"]);
    expect(code).toBe(0);
    const docs = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
    for (const { key, schema } of SETTINGS) {
      expect(stdout).toContain(`--${flagName(key)}`);
      expect(schema.description, `${key} has no .describe() text`).toBeTruthy();
      expect(stdout).toContain(schema.description!.slice(0, 40));
    }
    // The flags themselves are documented once, in configuration.md (checked by the config test).
    expect(docs).toContain("(configuration.md)");
    for (const c of COMMANDS) expect(docs).toContain(`switchboard ${c}`);
  });
});

describe("client commands", SLOW, () => {
  it("put then get round-trips JSON, plain strings, metadata and a TTL", async () => {
    const set = await cli(["put", "cli/a", '{"c":21.5}', "--metadata", '{"unit":"C"}', "--ttl", "30s"]);
    expect(set).toMatchObject({ code: 0, stderr: "" });
    expect(set.stdout).toMatch(/^cli\/a: version 1, revision \d+, expires /);
    expect((await cli(["put", "cli/b", "hello world"])).code).toBe(0);
    expect((await cli(["put", "cli/c", "--", "-5"])).code).toBe(0);

    expect(await cli(["get", "cli/a"])).toEqual({ code: 0, stdout: '{"c":21.5}', stderr: "" });
    const both = await cli(["get", "cli/b", "cli/c"]);
    expect(both.code).toBe(0);
    expect(both.stdout.split("\n")).toEqual(['cli/b  "hello world"', "cli/c  -5"]);

    const raw = await cli(["get", "cli/a", "--json"]);
    const body = JSON.parse(raw.stdout);
    expect(body.registers[0]).toMatchObject({ name: "cli/a", value: { c: 21.5 }, metadata: { unit: "C" }, version: 1 });
    expect(body.registers[0].expiresAt).not.toBeNull();
    expect((await read(server.url, "cli/b")).registers[0].value).toBe("hello world");
  });

  it("get exits 1 when a register is missing, still printing the ones found", async () => {
    await put(server.url, { name: "cli/here", value: true });
    const r = await cli(["get", "cli/here", "cli/missing"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("cli/here  true");
    expect(r.stderr).toBe('error REGISTER_NOT_FOUND: register "cli/missing" does not exist');
  });

  it("prints the server's error code on a 4xx and exits 1", async () => {
    const bad = await cli(["put", "bad name!", "1"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error INVALID_NAME: /);
    const gone = await cli(["request", "cli/never-set", "1"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error REGISTER_NOT_FOUND: /);
  });

  it("--if-version makes put, delete and request conditional", async () => {
    await put(server.url, { name: "cli/cas", value: 1 });
    const [stale, staleDelete, create, request, malformed] = await cliAll([
      ["put", "cli/cas", "2", "--if-version", "0"],
      ["delete", "cli/cas", "--if-version", "5"],
      ["put", "cli/cas-new", "x", "--if-version", "0"],
      ["request", "cli/cas", "on", "--if-version", "1"],
      ["put", "cli/cas", "3", "--if-version", "x"],
    ] as const);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^error VERSION_CONFLICT: .*\(cli\/cas is at version 1\)$/);
    expect(staleDelete.code).toBe(1);
    expect(staleDelete.stderr).toMatch(/^error VERSION_CONFLICT: /);
    expect(create).toMatchObject({ code: 0, stderr: "" });
    expect(request.code).toBe(0);
    expect(request.stdout).toMatch(/^\d+$/);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("--if-version");
    const now = await read(server.url, "cli/cas");
    expect(now.registers[0]).toMatchObject({ found: true, value: 1, version: 1 });
  });

  it("exits 1 with one line when the server cannot be reached", async () => {
    const port = await freePort();
    const r = await cli(["status", "--url", `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^error: cannot reach http://127.0.0.1:${port}: .*ECONNREFUSED`));
  });

  it("list follows the cursors over every page, or stops at --limit", async () => {
    const names = Array.from({ length: 1205 }, (_, i) => `page/${String(i).padStart(5, "0")}`);
    for (let i = 0; i < names.length; i += 1000) {
      await put(server.url, { registers: names.slice(i, i + 1000).map((name) => ({ name, value: name })) });
    }
    const all = await cli(["list", "--prefix", "page/", "--json"]);
    expect(all.code).toBe(0);
    const body = JSON.parse(all.stdout);
    expect(body.registers.map((r: { name: string }) => r.name)).toEqual(names);
    expect(body.cursor).toBeNull();

    const some = JSON.parse((await cli(["list", "--prefix", "page/", "--limit", "3", "--json"])).stdout);
    expect(some.registers.map((r: { name: string }) => r.name)).toEqual(names.slice(0, 3));
    expect(some.cursor).not.toBeNull();

    const text = await cli(["list", "--prefix", "page/", "--limit", "2"]);
    expect(text.stdout.split("\n")).toEqual([
      expect.stringMatching(/^NAME\s+VERSION\s+REVISION\s+EXPIRES\s+VALUE$/),
      expect.stringMatching(/^page\/00000\s+1\s+\d+\s+-\s+"page\/00000"$/),
      expect.stringMatching(/^page\/00001\s+1\s+\d+\s+-\s+"page\/00001"$/),
    ]);
  });

  it("services list shows services of every protocol, all or of one type", async () => {
    await put(server.url, { name: "services/web/w1", value: { host: "127.0.0.21", port: 80 }, ttl: "1h" });
    const cgse = new CgseClient(cgseEndpoints(server.server.listeners));
    try {
      const reply = await cgse.request({
        action: "register",
        service_info: { name: "cm", id: "cm-1", host: "127.0.0.22", port: 6110, type: "CM_CS" },
      });
      expect(reply.success).toBe(true);
    } finally {
      await cgse.close();
    }
    const [all, typed, json, none, bad] = await cliAll([
      ["services", "list"],
      ["services", "list", "--type", "CM_CS"],
      ["services", "list", "--json"],
      ["services", "list", "--type", "NOBODY"],
      ["services", "list", "--type", "a/b"],
    ]);
    expect(all.code).toBe(0);
    expect(all.stdout.split("\n")).toEqual([
      expect.stringMatching(/^TYPE\s+ID\s+ENDPOINT\s+EXPIRES\s+METADATA$/),
      expect.stringMatching(/^CM_CS\s+cm-1\s+127\.0\.0\.22:6110\s+\S+Z\s+\{"type":"CM_CS","leaseMs":30000\}$/),
      expect.stringMatching(/^web\s+w1\s+127\.0\.0\.21:80\s+\S+Z\s+\{\}$/),
    ]);
    expect(typed.stdout.split("\n")).toHaveLength(2);
    expect(typed.stdout).toContain("cm-1");
    expect(JSON.parse(json.stdout).services).toEqual([
      expect.objectContaining({ type: "CM_CS", id: "cm-1", host: "127.0.0.22", port: 6110 }),
      expect.objectContaining({ type: "web", id: "w1", host: "127.0.0.21", port: 80 }),
    ]);
    expect(none).toEqual({ code: 0, stdout: "", stderr: "no services of type NOBODY" });
    expect(bad.code).toBe(2);
    await fetch(`${server.url}/provider?name=services/web/w1&name=services/CM_CS/cm-1`, { method: "DELETE" });
  });

  it("request prints the request id, which the provider's GET /provider then returns", async () => {
    await put(server.url, { name: "cli/lamp", value: "off" });
    const r = await cli(["request", "cli/lamp", '"on"', "--requester", "test"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+$/);
    const poll = (await (await fetch(`${server.url}/provider?name=cli/lamp&wait=0`)).json()) as any;
    expect(poll.requests).toEqual([expect.objectContaining({ id: Number(r.stdout), value: "on", requester: "test" })]);
  });

  it("delete removes registers; names that do not exist are reported, not an error", async () => {
    await put(server.url, { name: "cli/doomed", value: 1 });
    const r = await cli(["delete", "cli/doomed", "cli/not-there"]);
    expect(r).toEqual({ code: 0, stdout: "deleted cli/doomed", stderr: "not found: cli/not-there" });
    expect((await read(server.url, "cli/doomed")).registers[0].found).toBe(false);
  });

  it("status reports readiness, revision, registers, held long-polls and listeners", async () => {
    const first = server.server.core.revision;
    const r = await cli(["status", "--json"]);
    const last = server.server.core.revision;
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ status: "ready", storage: "memory" });
    // Other tests' TTLs may expire while the command runs: what it shows lies between the states around it.
    expect(s.revision).toBeGreaterThanOrEqual(first);
    expect(s.revision).toBeLessThanOrEqual(last);
    if (s.revision === last) expect(s.registers).toBe(server.server.core.stats().registers);
    // No client poll is held; protocol modules may hold their own event streams (the ZeroMQ PUB feed).
    expect(s.waiters).toEqual(server.server.core.stats().waiters);
    expect(s.waiters).toMatchObject({ consumer: 0, provider: 0 });
    expect(s.listeners).toContainEqual(expect.objectContaining({ protocol: "http", port: server.port }));
    // Other tests' TTLs may expire meanwhile: the revision shown lies between the ones seen around the call.
    const before = server.server.core.revision;
    const text = await cli(["status"]);
    const after = server.server.core.revision;
    expect(text.stdout).toMatch(/^status\s+ready$/m);
    const shown = Number(/^revision\s+(\d+)$/m.exec(text.stdout)?.[1]);
    expect(shown).toBeGreaterThanOrEqual(before);
    expect(shown).toBeLessThanOrEqual(after);
  });
});

describe("watch", SLOW, () => {
  it("prints the state, then each change made after it started; SIGINT exits 0 with no stack trace", async () => {
    await put(server.url, { name: "wp/1", value: "first" });
    const w = startCli(["watch", "w/x", "--prefix", "wp/"]);
    // The initial state: one line per register, a missing named one as found: false.
    await w.stdout.waitFor((l) => parseLine(l).name === "w/x" && parseLine(l).found === false);
    await w.stdout.waitFor((l) => parseLine(l).name === "wp/1" && parseLine(l).value === "first");
    // Changes made after the watch holds its poll.
    await until(async () => (await metricValue(server.url, "switchboard_waiters", { kind: "consumer" })) >= 1);
    await put(server.url, { name: "w/x", value: { n: 1 } });
    const set = parseLine(await w.stdout.waitFor((l) => parseLine(l).name === "w/x" && parseLine(l).found === true));
    expect(set).toMatchObject({ name: "w/x", value: { n: 1 }, version: 1 });
    await put(server.url, { name: "wp/2", value: "second" });
    await w.stdout.waitFor((l) => parseLine(l).name === "wp/2");
    await fetch(`${server.url}/provider?name=wp/1`, { method: "DELETE" });
    const gone = parseLine(await w.stdout.waitFor((l) => l.includes('"name":"wp/1","found":false')));
    expect(gone.index).toBeGreaterThan(set.index);

    await until(async () => (await metricValue(server.url, "switchboard_waiters", { kind: "consumer" })) >= 1);
    w.child.kill("SIGINT");
    expect(await w.closed).toEqual({ code: 0, signal: null });
    expect(w.stderr.text).toBe("");
    // Nothing is printed twice: five lines, one per state seen.
    expect(w.stdout.lines.filter((l) => l !== "")).toHaveLength(5);
  });

  it("retries with backoff, one line per attempt, while the server is away", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const w = startCli(["watch", "retry/a", "--url", url]);
    await w.stderr.waitFor((l) => /^watch: cannot reach .*; retrying in \d+\.\ds$/.test(l));
    const late = await startTestServer({ port, dataDir: ":memory:" });
    try {
      await put(url, { name: "retry/a", value: 42 });
      await w.stdout.waitFor((l) => parseLine(l).value === 42, 20_000);
      w.child.kill("SIGINT");
      expect((await w.closed).code).toBe(0);
    } finally {
      await late.dispose();
    }
  });
});

describe("serve", SLOW, () => {
  it("prints its URL, serves, refuses a second server on its data dir, and on SIGTERM answers a held poll and exits 0", async () => {
    const dir = await makeTempDir("switchboard-cli-");
    try {
      // Flags win over the environment: these variables alone would not start.
      const s = startCli(["serve", "--port", "0", "--data-dir", dir.path, "--log-level", "info"], {
        SWITCHBOARD_PORT: "not-a-port",
        SWITCHBOARD_LOG_LEVEL: "silent",
      });
      const listening = parseLine(await s.stdout.waitFor((l) => l.includes('"switchboard listening"')));
      const url: string = listening.url;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(listening.storage).toBe("file");
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });

      const second = await cli(["serve", "--port", "0", "--data-dir", dir.path]);
      expect(second.code).toBe(1);
      expect(second.stderr.split("\n")).toEqual([expect.stringMatching(/data directory is in use/)]);

      const { index } = await put(url, { name: "srv/x", value: 7 });
      const held = fetch(`${url}/consumer?name=srv/x&index=${index}&wait=60s`);
      await until(async () => (await metricValue(url, "switchboard_waiters", { kind: "consumer" })) === 1);
      const t0 = Date.now();
      s.child.kill("SIGTERM");
      const answer = await held;
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as any).registers[0]).toMatchObject({ name: "srv/x", value: 7 });
      expect(await s.closed).toEqual({ code: 0, signal: null });
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(s.stdout.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
      expect(s.stderr.text).toBe("");
      expect(existsSync(join(dir.path, "switchboard.lock"))).toBe(false);

      // The write survived: a new server on the same directory has it.
      const again = startCli(["serve", "--port", "0", "--data-dir", dir.path]);
      const url2: string = parseLine(await again.stdout.waitFor((l) => l.includes('"switchboard listening"'))).url;
      expect(await cli(["get", "srv/x", "--url", url2])).toMatchObject({ code: 0, stdout: "7" });
      again.child.kill("SIGINT");
      expect((await again.closed).code).toBe(0);
    } finally {
      await dir.cleanup();
    }
  });

  it("exits 1 at once on a second signal while the shutdown waits for a request", async () => {
    const s = startCli(["serve", "--port", "0", "--data-dir", ":memory:", "--shutdown-timeout", "60s"]);
    const url = new URL(parseLine(await s.stdout.waitFor((l) => l.includes('"switchboard listening"'))).url);
    // A request whose body never arrives keeps its connection busy, so the graceful stop waits.
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write("PUT /provider HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
    await until(
      async () =>
        (await metricValue(url.origin, "switchboard_http_requests_in_flight", {
          method: "PUT",
          route: "/provider",
        })) === 1,
    );
    try {
      s.child.kill("SIGTERM");
      await s.stdout.waitFor((l) => l.includes('"msg":"shutting down"'));
      const t0 = Date.now();
      s.child.kill("SIGTERM");
      expect((await s.closed).code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      socket.destroy();
    }
  });

  it("prints one line on stderr and exits 1 when it cannot start", async () => {
    const [badConfig, badFile, portTaken] = await cliAll([
      ["serve", "--port", "abc", "--data-dir", ":memory:"],
      ["serve", "--config", join(ROOT, "no-such-config.json")],
      ["serve", "--port", String(server.port), "--data-dir", ":memory:"],
    ]);
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/^switchboard: invalid configuration: port: /);
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toMatch(/^switchboard: cannot read config file .*no-such-config\.json/);
    expect(portTaken.code).toBe(1);
    expect(portTaken.stderr).toBe(
      `switchboard: cannot listen on 127.0.0.1:${server.port}: the address is already in use`,
    );
    for (const r of [badConfig, badFile, portTaken]) expect(r.stderr.split("\n")).toHaveLength(1);
  });
});

describe("token and policy", SLOW, () => {
  it("an admin defines a policy and a token; the token works as the policy says until it is revoked", async () => {
    const secured = await startTestServer({ config: { auth: "on" } });
    try {
      const admin = readFileSync(join(secured.dataDir, "admin.token"), "utf8").trim();
      const as = (token: string) => ({ SWITCHBOARD_URL: secured.url, SWITCHBOARD_TOKEN: token });
      expect((await cli(["put", "fleet/a", "1"], as(admin))).code).toBe(0);
      const policy = await cli(["policy", "put", "viewer", '[{"prefix":"fleet/","read":true}]'], as(admin));
      expect(policy).toMatchObject({ code: 0, stdout: "policy viewer saved" });
      const made = await cli(["token", "create", "--policy", "viewer", "--description", "dashboard"], as(admin));
      expect(made.code).toBe(0);
      const token = made.stdout;
      expect(token).toMatch(/^sbt\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
      expect(made.stderr).toMatch(/shown only this once/);
      const listed = JSON.parse((await cli(["token", "list", "--json"], as(admin))).stdout);
      const mine = listed.tokens.find((t: { description: string }) => t.description === "dashboard");
      expect(mine).toMatchObject({ policies: ["viewer"] });
      expect(JSON.stringify(listed)).not.toContain(token);

      expect(await cli(["get", "fleet/a"], as(token))).toMatchObject({ code: 0, stdout: "1" });
      const refused = await cli(["put", "fleet/a", "2"], as(token));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error FORBIDDEN: write is not allowed on fleet\/a/);
      expect((await cli(["token", "list"], as(token))).stderr).toMatch(/^error FORBIDDEN/);

      expect((await cli(["token", "revoke", mine.id], as(admin))).stdout).toBe(`revoked ${mine.id}`);
      expect((await cli(["get", "fleet/a"], as(token))).stderr).toMatch(/^error UNAUTHENTICATED/);
      expect((await cli(["get", "fleet/a"], { SWITCHBOARD_URL: secured.url })).stderr).toMatch(
        /^error UNAUTHENTICATED/,
      );
    } finally {
      await secured.dispose();
    }
  });
});

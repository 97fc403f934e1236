// A load worker process: holds many long-polls (or etcd watch streams, or SSE streams) and reports when each was
// answered; or, as the stall probe, sends one cheap GET after another and reports the longest one.
//
// It times each answer with process.hrtime (CLOCK_MONOTONIC, shared by every process of the machine),
// so the orchestrator can subtract the time it sent the write from another process.

import http from "node:http";
import { setPriority } from "node:os";
import { nowMs, sleep } from "../lib/children.js";
import type { WorkerIn, WorkerOut } from "./protocol.js";

const send = (m: WorkerOut) => process.send?.(m);
const agents: http.Agent[] = [];

function agentFor(count: number): http.Agent {
  // Every held request needs its own socket, and every socket must stay pooled between rounds.
  const agent = new http.Agent({ keepAlive: true, maxSockets: count, maxFreeSockets: count, timeout: 180_000 });
  agents.push(agent);
  return agent;
}

// ---------------------------------------------------------------- long-polls

let pollAgent: http.Agent | undefined;

async function arm(url: string, path: string, count: number, round: number, localAddress?: string): Promise<void> {
  pollAgent ??= agentFor(count);
  const agent = pollAgent;
  const times: number[] = [];
  let bad = 0;
  let badSample: string | undefined;
  const marker = `"round":${round}}`;
  const finish = () => {
    if (times.length + bad === count) send({ type: "done", times, bad, ...(badSample ? { badSample } : {}) });
  };
  const fail = (what: string) => {
    bad++;
    badSample ??= what.slice(0, 300);
    finish();
  };
  const issue = (retries: number) => {
    let answered = false;
    const req = http.get(`${url}${path}`, { agent, ...(localAddress ? { localAddress } : {}) }, (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        const at = nowMs();
        if (res.statusCode === 200 && body.includes(marker)) {
          times.push(at);
          finish();
        } else fail(`${res.statusCode}: ${body}`);
      });
      res.on("error", (err) => fail(String(err)));
    });
    req.on("error", (err) => {
      // A pooled keep-alive socket can be closed under a request before it is answered: send it again once.
      if (!answered && retries > 0) issue(retries - 1);
      else fail(String(err));
    });
  };
  for (let i = 0; i < count; i++) {
    issue(1);
    // New connections arrive in steps so that the server's accept backlog never overflows (SYN retries cost 1 s).
    if (i % 250 === 249) await sleep(5);
  }
  send({ type: "armed" });
}

// ------------------------------------------------------------ etcd watches

interface Watch {
  buffer: string;
}
let expecting: { round: number; times: number[]; bad: number; badSample?: string } | undefined;
let watchCount = 0;

function onWatchMessage(text: string, created: () => void): void {
  let msg: { result?: { created?: boolean; events?: { kv?: { value?: string } }[] }; error?: unknown };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    return;
  }
  if (msg.result?.created) {
    created();
    return;
  }
  const events = msg.result?.events;
  if (!events || events.length === 0 || !expecting) return;
  const at = nowMs();
  const value = Buffer.from(events[events.length - 1]?.kv?.value ?? "", "base64").toString();
  const e = expecting;
  if (value === String(e.round)) e.times.push(at);
  else {
    e.bad++;
    e.badSample ??= text.slice(0, 300);
  }
  if (e.times.length + e.bad === watchCount) {
    expecting = undefined;
    send({ type: "done", times: e.times, bad: e.bad, ...(e.badSample ? { badSample: e.badSample } : {}) });
  }
}

async function openWatches(url: string, key: string, count: number): Promise<void> {
  const agent = agentFor(count);
  watchCount = count;
  let created = 0;
  const onCreated = () => {
    if (++created === count) send({ type: "ready" });
  };
  const body = JSON.stringify({ create_request: { key } });
  for (let i = 0; i < count; i++) {
    const w: Watch = { buffer: "" };
    const req = http.request(`${url}/v3/watch`, { method: "POST", agent }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        w.buffer += chunk;
        let nl = w.buffer.indexOf("\n");
        while (nl >= 0) {
          const line = w.buffer.slice(0, nl).trim();
          w.buffer = w.buffer.slice(nl + 1);
          if (line) onWatchMessage(line, onCreated);
          nl = w.buffer.indexOf("\n");
        }
      });
    });
    req.on("error", (err) => send({ type: "error", message: `watch ${i}: ${String(err)}` }));
    // The stream must stay open: the request body is written but the request is never ended by a timeout.
    req.setHeader("Content-Type", "application/json");
    req.end(body);
    if (i % 250 === 249) await sleep(5);
  }
}

// ------------------------------------------------------------- SSE streams

let sseExpecting: { round: number; marker: string; times: number[]; bad: number; badSample?: string } | undefined;
let sseCount = 0;

/** One complete SSE frame (without its blank line): a `set` frame carrying the expected round counts once. */
function onSseFrame(frame: string, at: number): void {
  const e = sseExpecting;
  // Comments (": keep-alive") and frames before the round was armed are not answers.
  if (!e || frame.startsWith(":")) return;
  if (!/^event: ?set$/m.test(frame)) return;
  if (frame.includes(e.marker)) e.times.push(at);
  else {
    e.bad++;
    e.badSample ??= frame.slice(0, 300);
  }
  if (e.times.length + e.bad === sseCount) {
    sseExpecting = undefined;
    send({ type: "done", times: e.times, bad: e.bad, ...(e.badSample ? { badSample: e.badSample } : {}) });
  }
}

async function openSse(url: string, path: string, count: number): Promise<void> {
  const agent = agentFor(count);
  sseCount = count;
  let open = 0;
  for (let i = 0; i < count; i++) {
    let buffer = "";
    const req = http.get(`${url}${path}`, { agent, headers: { accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) {
        send({ type: "error", message: `SSE stream ${i}: ${res.statusCode}` });
        res.resume();
        return;
      }
      // Headers are flushed once the server has registered the stream: from here on it gets every event.
      if (++open === count) send({ type: "ready" });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const at = nowMs();
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          onSseFrame(frame, at);
          end = buffer.indexOf("\n\n");
        }
      });
      res.on("end", () => send({ type: "error", message: `SSE stream ${i} ended by the server` }));
    });
    req.on("error", (err) => send({ type: "error", message: `SSE stream ${i}: ${String(err)}` }));
    if (i % 250 === 249) await sleep(5);
  }
}

// -------------------------------------------------------------- stall probe

let stall:
  | { agent: http.Agent; running: boolean; count: number; maxMs: number; failed: number; stopped?: () => void }
  | undefined;

let reniced = false;

function startStallProbe(url: string, path: string): void {
  if (!reniced) {
    reniced = true;
    // The probe measures the server, not its own wait for a core of this busy machine: ahead of the load
    // workers where allowed (it sleeps on its one request almost all the time).
    try {
      setPriority(-10);
    } catch {
      // not allowed: it runs at the default priority
    }
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const s: NonNullable<typeof stall> = { agent, running: true, count: 0, maxMs: 0, failed: 0 };
  stall = s;
  const one = () => {
    const t0 = nowMs();
    const req = http.get(`${url}${path}`, { agent }, (res) => {
      res.resume();
      res.on("end", () => {
        const took = nowMs() - t0;
        s.count++;
        if (res.statusCode !== 200) s.failed++;
        if (took > s.maxMs) s.maxMs = took;
        if (s.count === 1) send({ type: "armed" });
        if (s.running) one();
        else s.stopped?.();
      });
    });
    req.on("error", (err) => send({ type: "error", message: `stall probe: ${String(err)}` }));
  };
  one();
}

function stopStallProbe(): void {
  const s = stall;
  if (!s) {
    send({ type: "error", message: "stall probe was not started" });
    return;
  }
  // The request in flight (started during the wake) still counts: report once it is back.
  s.stopped = () => {
    stall = undefined;
    s.agent.destroy();
    send({ type: "stall", count: s.count, maxMs: s.maxMs, failed: s.failed });
  };
  s.running = false;
}

// ----------------------------------------------------------------- driver

process.on("message", (raw) => {
  const m = raw as WorkerIn;
  const run = async () => {
    if (m.type === "longpoll-arm") await arm(m.url, m.path, m.count, m.round, m.localAddress);
    else if (m.type === "etcd-watch-open") await openWatches(m.url, m.key, m.count);
    else if (m.type === "sse-open") await openSse(m.url, m.path, m.count);
    else if (m.type === "sse-expect") {
      sseExpecting = { round: m.round, marker: `"round":${m.round}}`, times: [], bad: 0 };
      send({ type: "armed" });
    } else if (m.type === "stall-start") startStallProbe(m.url, m.path);
    else if (m.type === "stall-stop") stopStallProbe();
    else if (m.type === "etcd-expect") {
      expecting = { round: m.round, times: [], bad: 0 };
      send({ type: "armed" });
    } else send({ type: "error", message: `the poll worker does not take ${m.type}` });
  };
  run().catch((err: unknown) => send({ type: "error", message: String(err) }));
});

// The orchestrator disconnects the IPC channel to end the worker: drop every socket and exit.
process.on("disconnect", () => {
  for (const a of agents) a.destroy();
  stall?.agent.destroy();
  process.exit(0);
});

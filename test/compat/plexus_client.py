"""A Plexus registry client in Python (the `websockets` library): the seed's websocat session in both call styles.

Usage: plexus_client.py WS_URL  -> prints one JSON document with every answer, for the test to check.
"""

import asyncio
import itertools
import json
import sys

import websockets

SESSION = [
    ("registry.list", {"active_only": True}),
    ("registry.register", {"name": "test", "host": "127.0.0.1", "port": 8888}),
    ("registry.get", {"name": "test"}),
    ("registry.update", {"name": "test", "host": "192.168.1.101"}),
    ("registry.ping", {"name": "test"}),
    ("registry.delete", {"name": "test"}),
    ("registry.reload", {}),
]

ids = itertools.count(1)


async def request(ws, method, params=None):
    """Sends one request and returns its response, keeping any notification that arrives first."""
    rid = next(ids)
    msg = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    await ws.send(json.dumps(msg))
    early = []
    while True:
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if answer.get("id") == rid:
            return answer, early
        early.append(answer)


async def hub_call(ws, hub, method, params):
    """Hub style: <hub>.call answers a subscription id, then items arrive until 'done'."""
    call = {"method": method}
    if params is not None:
        call["params"] = params
    answer, early = await request(ws, f"{hub}.call", call)
    sub = answer["result"]
    frames = [m for m in early if m.get("params", {}).get("subscription") == sub]
    while not frames or frames[-1]["params"]["result"]["type"] != "done":
        m = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if m.get("params", {}).get("subscription") == sub:
            frames.append(m)
    return {
        "subscription": sub,
        "notification_methods": sorted({m["method"] for m in frames}),
        "items": [m["params"]["result"] for m in frames],
    }


async def main(url):
    out = {"direct": [], "hub": {"calls": []}}
    async with websockets.connect(url) as ws:
        for method, params in SESSION:
            answer, _ = await request(ws, method, params)
            out["direct"].append(answer)
        # The raw frames of the seed document, typed into websocat as they are.
        await ws.send('{"jsonrpc":"2.0","id":"w1","method":"registry.list","params":{"active_only":true}}')
        out["websocat"] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        await ws.send("not json at all")
        out["parse_error"] = json.loads(await asyncio.wait_for(ws.recv(), 5))

    async with websockets.connect(url) as ws:
        info, _ = await request(ws, "_info")
        out["hub"]["info"] = info
        hub = info["result"]["backend"]
        # As Plexus clients do: the hub's schema first, then the schema of the child they call into.
        root = await hub_call(ws, hub, f"{hub}.schema", None)
        child = root["items"][0]["content"]["children"][0]["namespace"]
        out["hub"]["schema"] = await hub_call(ws, hub, f"{child}.schema", None)
        for method, params in SESSION:
            out["hub"]["calls"].append([method, await hub_call(ws, hub, method, params)])
        out["hub"]["missing"] = await hub_call(ws, hub, "registry.delete", {"name": "test"})
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

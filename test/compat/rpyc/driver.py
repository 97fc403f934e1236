# A stock rpyc client under test control: reads one JSON command per line on stdin, answers one JSON line on stdout.
# Runs with Debian's python3-rpyc (/usr/bin/python3). Every call uses rpyc's own public API, unmodified.

import json
import socket
import sys
import threading

import rpyc
from rpyc.utils.registry import TCPRegistryClient, UDPRegistryClient
from rpyc.utils.server import ThreadedServer
from rpyc.core import brine


class EchoService(rpyc.Service):
    """Its aliases are ("ECHO",): rpyc derives them from the class name."""

    def exposed_echo(self, text):
        return f"echo: {text}"


class OtherService(rpyc.Service):
    ALIASES = ["calc", "Adder"]

    def exposed_add(self, a, b):
        return a + b


SERVICES = {"echo": EchoService, "other": OtherService}
servers = {}


def registrar(cmd):
    kind = UDPRegistryClient if cmd["transport"] == "udp" else TCPRegistryClient
    return kind(ip="127.0.0.1", port=cmd["registry_port"], timeout=cmd.get("timeout", 2))


def serve(cmd):
    server = ThreadedServer(
        SERVICES[cmd["service"]],
        hostname="127.0.0.1",
        port=0,
        registrar=registrar(cmd),
        auto_register=True,
    )
    threading.Thread(target=server.start, daemon=True).start()
    servers[server.port] = server
    return {"port": server.port}


def close(cmd):
    servers.pop(cmd["port"]).close()
    return {}


def call(cmd):
    conn = rpyc.connect_by_service(cmd["name"], registrar=registrar(cmd))
    try:
        if cmd["name"].lower() == "echo":
            result = conn.root.echo(cmd["arg"])
        else:
            result = conn.root.add(*cmd["arg"])
        return {"result": result, "peer": list(conn._channel.stream.sock.getpeername())}
    finally:
        conn.close()


def discover(cmd):
    try:
        return {"found": [list(a) for a in rpyc.discover(cmd["name"], registrar=registrar(cmd))]}
    except rpyc.utils.factory.DiscoveryError as e:
        return {"error": "DiscoveryError", "message": str(e)}


def list_services(cmd):
    try:
        found = rpyc.list_services(registrar=registrar(cmd), filter_host=cmd.get("filter"))
        return {"services": sorted(found)}
    except rpyc.utils.factory.ForbiddenError as e:
        return {"error": "ForbiddenError", "message": str(e)}


def register(cmd):
    return {"ok": registrar(cmd).register(tuple(cmd["aliases"]), cmd["port"], interface="127.0.0.1")}


def unregister(cmd):
    registrar(cmd).unregister(cmd["port"])
    return {}


def garbage_then_query(cmd):
    """Sends each datagram of garbage, then a QUERY, from one socket: the first reply must be the QUERY's."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    try:
        for h in cmd["garbage"]:
            sock.sendto(bytes.fromhex(h), ("127.0.0.1", cmd["registry_port"]))
        sock.sendto(brine.dump(("RPYC", "QUERY", (cmd["name"],))), ("127.0.0.1", cmd["registry_port"]))
        data, _ = sock.recvfrom(1500)
        return {"reply": [list(a) for a in brine.load(data)]}
    finally:
        sock.close()


OPS = {
    "serve": serve,
    "close": close,
    "call": call,
    "discover": discover,
    "list": list_services,
    "register": register,
    "unregister": unregister,
    "garbage_then_query": garbage_then_query,
}

for line in sys.stdin:
    cmd = json.loads(line)
    try:
        out = OPS[cmd["op"]](cmd)
    except Exception as e:  # reported to the test, which fails with the message
        out = {"exception": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()

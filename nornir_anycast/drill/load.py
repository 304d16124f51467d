"""The drill's load generator: steady HTTP load on an anycast address, run inside the client.

    python -m nornir_anycast.drill.load SPEC_JSON      (prints one JSON document on stdout)

SPEC: {"address", "port", "path", "sources": [client addresses], "duration_s", "rate",
"workers", "long_lived", "long_interval_ms": [min, max], "connect_timeout_s",
"read_timeout_s"}.

Short requests: `rate` per second spread over `workers` threads, each a NEW TCP connection from
the next source address and a fresh kernel-chosen source port, `connect_timeout_s` (0.2) to
connect, no retry; HTTP/1.0, so the server closes. A request is ok when the answer is a 200;
the body names the server. Long-lived: `long_lived` HTTP/1.1 keep-alive connections, each
sending a request every 50-100 ms and remembering which server answers; the first request
that fails breaks it (time and error recorded) and it is not reopened (a server closing it
politely, `Connection: close`, reopens it instead). Everything stops by itself after
`duration_s` (at most 600 s), or earlier when `stop_on_eof` is true and its stdin closes (the
full-table drill runs it until it is done), and sends only to `address`. Times are time.time()
(the machine's clock, shared by every namespace). Standard library only: it runs in the lab
host's namespaces with the project's Python.
"""

from __future__ import annotations

import json
import random
import socket
import sys
import threading
import time
from typing import Any

MAX_DURATION_S = 600.0
MAX_RATE = 2000.0
#: Set when the load must stop before `duration_s` (stdin closed, with `stop_on_eof`).
STOP = threading.Event()


class _Closed(Exception):
    """The server closed a keep-alive connection after a complete answer."""


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP response (Content-Length framed, or until EOF)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("connection closed before the response headers")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP status line: {lines[0][:60]!r}")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        want = int(headers["content-length"])
        while len(body) < want:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed in the middle of the body")
            body += chunk
    else:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    return int(parts[1]), headers, body


def short_request(spec: dict[str, Any], source: str) -> dict[str, Any]:
    """One request on a new connection; never retried."""
    t0 = time.time()
    rec: dict[str, Any] = {"t0": t0, "src": source, "sport": None, "ok": False, "server": None,
                           "error": None}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((source, 0))
        rec["sport"] = sock.getsockname()[1]
        sock.settimeout(spec["connect_timeout_s"])
        try:
            sock.connect((spec["address"], spec["port"]))
        except TimeoutError:
            rec["error"] = "connect timeout"
            return rec
        sock.settimeout(spec["read_timeout_s"])
        host = spec["address"]
        sock.sendall(f"GET {spec['path']} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        status, _, body = _read_response(sock)
        rec["server"] = body.decode("utf-8", "replace").strip() or None
        rec["ok"] = status == 200
        if status != 200:
            rec["error"] = f"HTTP {status}"
    except TimeoutError:
        rec["error"] = "read timeout"
    except OSError as exc:  # refused, reset, unreachable, closed early
        rec["error"] = type(exc).__name__ if not str(exc) else str(exc)
    finally:
        rec["t1"] = time.time()
        sock.close()
    return rec


def _short_worker(spec: dict[str, Any], index: int, start: float, end: float,
                  out: list[dict[str, Any]], lock: threading.Lock) -> None:
    workers = spec["workers"]
    period = workers / spec["rate"]
    sources = spec["sources"]
    slot = start + index / spec["rate"]
    k = index
    while slot < end and not STOP.is_set():
        now = time.time()
        if slot > now:
            if STOP.wait(slot - now):
                break
        elif now - slot > period:  # late (a 200 ms connect timeout): skip missed slots
            slot += period * int((now - slot) / period)
        rec = short_request(spec, sources[k % len(sources)])
        with lock:
            out.append(rec)
        k += workers
        slot += period


def _long_worker(spec: dict[str, Any], index: int, end: float,
                 out: list[dict[str, Any]], lock: threading.Lock) -> None:
    source = spec["sources"][index % len(spec["sources"])]
    lo, hi = spec["long_interval_ms"]
    rec: dict[str, Any] = {"id": index, "src": source, "sport": None, "server": None,
                           "requests": 0, "reopened": 0, "broken": False, "t_broken": None,
                           "error": None, "opened": False}
    rnd = random.Random(index)
    sock: socket.socket | None = None
    try:
        while time.time() < end and not STOP.is_set():
            if sock is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind((source, 0))
                rec["sport"] = sock.getsockname()[1]
                sock.settimeout(spec["connect_timeout_s"])
                t = time.time()
                try:
                    sock.connect((spec["address"], spec["port"]))
                except OSError as exc:
                    if rec["opened"]:
                        rec.update(broken=True, t_broken=t, error=f"reopen: {exc}")
                    else:
                        rec["error"] = f"open: {exc}"
                    return
                rec["opened"] = True
                sock.settimeout(spec["read_timeout_s"])
            t = time.time()
            try:
                sock.sendall(f"GET {spec['path']} HTTP/1.1\r\nHost: {spec['address']}\r\n"
                             "\r\n".encode())
                status, headers, body = _read_response(sock)
                if status != 200:
                    raise ConnectionError(f"HTTP {status}")
                server = body.decode("utf-8", "replace").strip()
                if rec["server"] is None:
                    rec["server"] = server
                rec["requests"] += 1
                if headers.get("connection", "").lower() == "close":
                    raise _Closed()
            except _Closed:
                sock.close()
                sock = None
                rec["reopened"] += 1
            except (TimeoutError, OSError) as exc:
                rec.update(broken=True, t_broken=t,
                           error="read timeout" if isinstance(exc, TimeoutError) else str(exc)
                           or type(exc).__name__)
                return
            STOP.wait(rnd.uniform(lo, hi) / 1000)
    finally:
        if sock is not None:
            sock.close()
        with lock:
            out.append(rec)


STOP_AT: list[float] = []


def _stop_at_eof() -> None:
    """Stop the load when stdin reaches its end (the drill closed it)."""
    sys.stdin.read()
    STOP_AT.append(time.time())
    STOP.set()


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load of `spec` and return every record (see the module docstring)."""
    duration = float(spec["duration_s"])
    rate = float(spec["rate"])
    if not 0 < duration <= MAX_DURATION_S or not 0 < rate <= MAX_RATE:
        raise ValueError(f"duration_s must be 0..{MAX_DURATION_S}, rate 0..{MAX_RATE}")
    spec = dict(spec, workers=max(1, int(spec.get("workers", 16))))
    short: list[dict[str, Any]] = []
    long_lived: list[dict[str, Any]] = []
    lock = threading.Lock()
    start = time.time() + 0.05
    end = start + duration
    threads = [threading.Thread(target=_short_worker, args=(spec, i, start, end, short, lock),
                                daemon=True) for i in range(spec["workers"])]
    threads += [threading.Thread(target=_long_worker, args=(spec, i, end, long_lived, lock),
                                 daemon=True) for i in range(int(spec.get("long_lived", 0)))]
    for t in threads:
        t.start()
    if spec.get("stop_on_eof"):
        threading.Thread(target=_stop_at_eof, daemon=True).start()
    for t in threads:
        t.join(timeout=duration + 10)
    if STOP.is_set():
        end = min(end, STOP_AT[0] if STOP_AT else end)
    short.sort(key=lambda r: r["t0"])
    long_lived.sort(key=lambda r: r["id"])
    return {"start": start, "end": end, "short": short, "long_lived": long_lived}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m nornir_anycast.drill.load SPEC_JSON", file=sys.stderr)
        return 2
    spec = json.loads(argv[0])
    print(json.dumps({"started": time.time()}), flush=True)
    print(json.dumps(run(spec)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

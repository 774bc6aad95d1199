#!/usr/bin/env python3
"""Waits until a server answers HTTP at URL, while the process PID that should serve it lives.

    wait-http.py NAME URL PID LOG [SECONDS]

Any answer counts, an error status included (DynamoDB Local answers a bare GET with 400):
the condition is that the server is up, not what it says. Exits 1, printing the end of LOG,
if the process dies or SECONDS (default 60: a JVM or LocalStack takes seconds) pass.
"""

import os
import sys
import time
import urllib.error
import urllib.request


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def tail(path: str) -> str:
    try:
        with open(path, errors="replace") as log:
            return "".join(log.readlines()[-30:])
    except OSError:
        return ""


def main() -> int:
    name, url, pid, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(url):
            return 0
        if not alive(pid):
            sys.stderr.write(f"{tail(log)}\n{name} exited before it answered at {url} (log: {log})\n")
            return 1
        time.sleep(0.05)
    sys.stderr.write(f"{tail(log)}\n{name} did not answer at {url} within {seconds:.0f} s (log: {log})\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())

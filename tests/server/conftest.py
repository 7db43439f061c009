"""Fixtures shared by the tritonclient tests: the repository make_repository.py
writes (with the `loop` cases of expected.txt) and one cocktail-serve process
on free loopback ports, HTTP and gRPC, serving it in explicit mode."""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# Small enough that the size test is quick, large enough for every model here.
MAX_INPUT = 1 << 20


@pytest.fixture(scope="session")
def repo():
    with tempfile.TemporaryDirectory(prefix="cocktail-tritonclient-") as d:
        subprocess.run([sys.executable, os.path.join(HERE, "make_repository.py"), os.path.join(d, "repo")], check=True)
        cases = []
        with open(os.path.join(d, "repo", "expected.txt")) as f:
            lines = f.read().splitlines()
        for i in range(0, len(lines), 3):
            t, steps = map(int, lines[i].split())
            xs = np.array([float(v) for v in lines[i + 1].split()], np.float32).reshape(t, 4)
            out = np.array([float(v) for v in lines[i + 2].split()], np.float32)
            cases.append((xs, steps, out))
        yield d, cases


def start_server(repo_dir, *extra, cache=None):
    """A cocktail-serve process; returns it with the ports of its "listening:" line.
    repo_dir None: `extra` names the repository."""
    binary = os.environ.get("COCKTAIL_SERVE", "cocktail-serve")
    args = [binary] + (["--model-repository", repo_dir] if repo_dir else []) + ["--grpc-port", "0", "--metrics-port", "0", "--http-port", "0",
            "--grpc-address", "127.0.0.1", "--metrics-address", "127.0.0.1", "--http-address", "127.0.0.1"]
    if cache:
        args += ["--cache-dir", cache]
    proc = subprocess.Popen(args + list(extra), stdout=subprocess.PIPE, text=True)
    line, log = "", ""
    while "listening:" not in line:
        line = proc.stdout.readline()
        assert line, "cocktail-serve exited before listening:\n" + log
        log += line

    def port(kind):
        m = re.search(kind + r" 127.0.0.1:(\d+)", line)
        return f"127.0.0.1:{m.group(1)}" if m else None

    server = SimpleNamespace(proc=proc, http=port("http"), grpc=port("grpc"), metrics=port("metrics"), line=line, log=log,
                             lines=[])
    # Keep reading what it logs (so that the pipe never fills), for tests that look for a line.
    threading.Thread(target=lambda: server.lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()

    def logged(text, timeout=10.0):
        """The lines logged after the start that contain `text`, waiting up to `timeout` s for one."""
        until = time.monotonic() + timeout
        while True:
            found = [line for line in list(server.lines) if text in line]
            if found or time.monotonic() > until:
                return found
            time.sleep(0.05)

    server.logged = logged
    return server


@pytest.fixture(scope="session")
def server(repo):
    d, _ = repo
    s = start_server(os.path.join(d, "repo"), "--model-control-mode", "explicit", "--load-model", "*",
                     "--http-max-input-size", str(MAX_INPUT), cache=os.path.join(d, "cache"))
    yield s
    s.proc.terminate()
    assert s.proc.wait(timeout=60) == 0

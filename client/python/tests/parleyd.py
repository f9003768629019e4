"""Runs the real parleyd for the tests.

The binary is the one named by $PARLEYD, or one built with ``go build`` from
the repository this package sits in.
"""

from __future__ import annotations

import atexit
import os
import pathlib
import queue
import secrets
import shutil
import subprocess
import tempfile
import threading

_built = None


def _repo_root() -> pathlib.Path:
    for d in pathlib.Path(__file__).resolve().parents:
        if (d / "go.mod").exists():
            return d
    raise RuntimeError("no go.mod above the tests: set PARLEYD to a parleyd binary")


def parleyd_binary() -> str:
    """$PARLEYD, or parleyd built once into a temporary folder."""
    global _built
    if os.environ.get("PARLEYD"):
        return os.environ["PARLEYD"]
    if _built is None:
        folder = tempfile.mkdtemp(prefix="parleyd-bin-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        out = os.path.join(folder, "parleyd")
        subprocess.run(["go", "build", "-o", out, "./cmd/parleyd"], cwd=_repo_root(), check=True)
        _built = out
    return _built


class Parleyd:
    """A running parleyd with a temporary data folder."""

    def __init__(self, *extra_args: str):
        #: Flags passed to parleyd after --listen and --data.
        self.extra_args = list(extra_args)
        self.data_dir = tempfile.mkdtemp(prefix="parleyd-data-")
        self.admin_token = "prl_py-admin-" + secrets.token_hex(16)
        self.address = ""
        self._proc = None
        self._stderr = None

    def start(self) -> None:
        """Starts parleyd on a free loopback port, or on the same one as before."""
        listen = self.address or "127.0.0.1:0"
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [parleyd_binary(), "--listen", listen, "--data", self.data_dir, *self.extra_args],
            env={**os.environ, "PARLEY_ADMIN_TOKEN": self.admin_token},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        lines: "queue.Queue[str]" = queue.Queue()

        def read(stdout):
            for line in stdout:
                lines.put(line)
            lines.put("")  # end of output

        threading.Thread(target=read, args=(self._proc.stdout,), daemon=True).start()
        prefix = "parleyd: serving on "
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                text = self._stderr_text()
                self.kill()
                raise RuntimeError("parleyd did not start within 30s:\n" + text)
            if line == "":
                text = self._stderr_text()
                self.kill()
                raise RuntimeError("parleyd exited before serving:\n" + text)
            if line.startswith(prefix):
                self.address = line[len(prefix) :].split()[0]
                return

    def log(self) -> str:
        """What parleyd has logged since it last started."""
        return self._stderr_text()

    def _stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def kill(self) -> None:
        """Kills the process at once, as a crash would."""
        if self._proc is not None:
            self._proc.kill()
            self._reap()

    def stop(self) -> None:
        """Stops it gracefully."""
        if self._proc is not None:
            self._proc.terminate()
            self._reap()

    def _reap(self) -> None:
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()
        self._stderr.close()
        self._proc = None

    def close(self) -> None:
        """Stops it and removes its data folder."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

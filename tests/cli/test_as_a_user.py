"""The ``heldout`` command as a user runs it: the installed console script in a subprocess,
a fresh HOME, another working directory, against a live server (or a closed port)."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from heldout.accounts.audit import list_events
from heldout.config import Settings
from heldout.services import build_services
from tests.helpers import publish_tiny
from tests.ingest.conftest import image_bytes, write
from tests.live import free_port, make_key, running_api

HELDOUT = str(Path(sys.executable).parent / "heldout")


class User:
    """One person at a terminal: their own HOME and working directory, no HELDOUT_* set."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.cwd = home / "work"
        self.cwd.mkdir(parents=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("HELDOUT_", "XDG_"))}
        self.env["HOME"] = str(home)

    def run(self, *args: str, stdin: str | None = None, **env: str
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HELDOUT, *args], cwd=self.cwd, env={**self.env, **env},
                              input=stdin, capture_output=True, text=True, timeout=120)

    def json(self, *args: str, **env: str) -> dict:  # type: ignore[type-arg]
        done = self.run(*args, "--json", **env)
        assert done.returncode == 0, done.stderr + done.stdout
        return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def user(tmp_path: Path) -> User:
    return User(tmp_path / "home")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    settings = Settings(data_dir=tmp_path / "server", environment="test",
                        public_base_url=f"http://127.0.0.1:{free_port()}")
    services = build_services(settings)
    publish_tiny(services.repository)
    services.close()
    with running_api(settings) as url:
        yield settings, url


@pytest.mark.slow
def test_login_whoami_logout(user: User, live: tuple[Settings, str]) -> None:
    settings, url = live
    key = make_key(settings, "ann", "publisher")
    refused = user.run("login", url, "--token", "hld_nothere_0000000000000000")
    assert refused.returncode == 1 and "invalid or missing API key" in refused.stderr
    assert not (user.home / ".config" / "heldout").exists()

    signed = user.run("login", url, stdin=key + "\n")  # the key piped on stdin
    assert signed.returncode == 0, signed.stderr
    saved = user.home / ".config" / "heldout" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"url": url, "token": key}

    me = user.json("whoami")
    assert (me["user"], me["role"], me["url"]) == ("ann", "publisher", url)
    assert me["url_from"].startswith("`heldout login`") and key not in json.dumps(me)
    listed = user.json("datasets", "list")  # the saved URL, from another folder
    assert [row["name"] for row in listed] == ["tiny"]

    # precedence: a flag beats the environment, which beats the saved sign-in
    other = f"http://127.0.0.1:{free_port()}"
    env_url = user.run("whoami", HELDOUT_URL=other)
    assert env_url.returncode == 1 and f"no API key for {other}" in env_url.stderr
    flag = user.json("whoami", "--url", url, HELDOUT_URL=other, HELDOUT_TOKEN=key)
    assert flag["url_from"] == "--url" and flag["key_from"] == "HELDOUT_TOKEN"

    out = user.run("logout")
    assert out.returncode == 0 and not saved.exists()
    gone = user.run("whoami", "--json")
    assert gone.returncode == 1
    assert json.loads(gone.stdout)["error"]["type"] == "invalid-input"


@pytest.mark.slow
def test_closed_port_fails_fast_naming_the_url(user: User) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = user.run("datasets", "list", "--url", url)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert f"could not reach {url} (URL from --url)" in done.stderr
    assert "2 attempt(s)" in done.stderr and "Traceback" not in done.stderr
    as_json = user.run("datasets", "show", "tiny", "--json", HELDOUT_URL=url)
    error = json.loads(as_json.stdout)["error"]
    assert error["type"] == "connection-failed" and "(URL from HELDOUT_URL)" in error["detail"]


@pytest.mark.slow
def test_operator_command_without_a_catalog_says_where_it_looked(user: User) -> None:
    done = user.run("users", "list")
    assert done.returncode == 1
    where = user.cwd / "heldout-data"
    assert f"no Heldout catalog here: {where}" in done.stderr
    assert "HELDOUT_DATA_DIR" in done.stderr and "heldout db upgrade" in done.stderr
    assert not where.exists()  # nothing created on the way


@pytest.mark.slow
def _ctrl_c_as_in_a_terminal() -> None:
    """A shell starts a command with SIGINT at its default and unblocked; a test runner's
    worker process need not (an ignored or blocked SIGINT is inherited across exec)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_exits_130_with_one_line(user: User) -> None:
    with socket.socket() as silent:  # accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        process = subprocess.Popen([HELDOUT, "datasets", "list", "--url", url], cwd=user.cwd,
                                   env=user.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True,
                                   preexec_fn=_ctrl_c_as_in_a_terminal)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # wait until it is waiting on the server
                silent.settimeout(0.5)
                try:
                    conn, _ = silent.accept()
                    break
                except TimeoutError:
                    continue
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
            conn.close()
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130
    assert err.strip() == "interrupted"


def test_version_and_help_say_which_commands_are_which(user: User) -> None:
    assert user.run("--version").stdout.startswith("heldout ")
    root = user.run("--help").stdout
    assert "Client commands (talk to a Heldout server)" in root
    assert "Operator commands (this machine's catalog and store)" in root
    assert "Operator command:" in user.run("users", "list", "--help").stdout
    assert "Client command:" in user.run("datasets", "pull", "--help").stdout


def image_folder(root: Path) -> Path:
    """A tiny ``root/{split}/{class}/{i}.png`` folder."""
    for s, split in enumerate(("train", "test")):
        for c, cls in enumerate(("cat", "dog")):
            for i in range(2):
                write(root / split / cls / f"{i}.png", image_bytes(100 * s + 10 * c + i))
    return root


@pytest.mark.slow
def test_owner_manages_visibility_grants_yank_and_latest(tmp_path: Path,
                                                         live: tuple[Settings, str]) -> None:
    settings, url = live
    pat, ann = User(tmp_path / "pat"), User(tmp_path / "ann")
    assert pat.run("login", url, "--token", make_key(settings, "pat", "publisher")).returncode == 0
    assert ann.run("login", url, "--token", make_key(settings, "ann", "participant")
                   ).returncode == 0
    source = image_folder(tmp_path / "src")

    def on_server(version: str) -> None:
        services = build_services(settings)
        try:
            publish_tiny(services.repository, "pets", version)
        finally:
            services.close()

    def publish(version: str, *extra: str) -> None:
        done = pat.run("datasets", "publish", str(source), "--name", "pets", "--version", version,
                       "--server", url, "--held-out", "test", "--workers", "1", "--json", *extra)
        assert done.returncode == 0, done.stderr + done.stdout

    publish("1.0.0", "--visibility", "private")
    assert [r["name"] for r in ann.json("datasets", "list")] == ["tiny"]  # not even listed
    hidden = ann.run("datasets", "show", "pets", "--json")
    assert json.loads(hidden.stdout)["error"]["type"] == "not-found"
    granted = pat.json("datasets", "manage", "pets", "--grant-user", "ann")
    assert granted["visibility"] == "private" and granted["grants"] == ["user ann"]
    assert ann.json("datasets", "show", "pets")["version"] == "1.0.0"
    not_hers = ann.run("datasets", "manage", "pets", "--visibility", "public")
    assert not_hers.returncode == 1 and "only its owner or an admin" in not_hers.stderr

    on_server("1.1.0")  # further versions straight into the server's store (faster)
    yanked = pat.json("datasets", "yank", "pets@1.1.0", "--reason", "mislabelled dogs")
    assert yanked["yanked"] == {"1.1.0": "mislabelled dogs"}
    assert ann.json("datasets", "show", "pets")["version"] == "1.0.0"  # latest skips it
    assert [r["latest_version"] for r in ann.json("datasets", "list") if r["name"] == "pets"
            ] == ["1.0.0"]
    pulled = ann.run("datasets", "pull", "pets@1.1.0", "-o", str(tmp_path / "old"), "--json")
    assert pulled.returncode == 0, pulled.stderr
    assert "warning: pets@1.1.0 is yanked: mislabelled dogs" in pulled.stderr

    on_server("2.0.0-beta")
    assert ann.json("datasets", "show", "pets")["version"] == "1.0.0"  # never a pre-release
    pinned = pat.json("datasets", "manage", "pets", "--latest", "2.0.0-beta")
    assert pinned["latest_version"] == "2.0.0-beta"
    assert ann.json("datasets", "show", "pets")["version"] == "2.0.0-beta"

    services = build_services(settings)
    try:
        with services.catalog.session() as session:
            events, _ = list_events(session, target_prefix="pets@1.1.0")
            actions = [e["action"] for e in events]
    finally:
        services.close()
    assert "dataset.version_yanked" in actions


@pytest.mark.slow
def test_publish_checks_the_key_before_reading_files(user: User, live: tuple[Settings, str],
                                                     tmp_path: Path) -> None:
    _, url = live
    source = image_folder(tmp_path / "src")
    write(source / "train" / "cat" / "broken.png", b"\x89PNG not really")
    done = user.run("datasets", "publish", str(source), "--name", "pets", "--version", "1.0.0",
                    "--server", url, "--token", "hld_nothere_0000000000000000")
    assert done.returncode == 1 and "invalid or missing API key" in done.stderr
    assert "broken.png" not in done.stderr + done.stdout  # no file was read
    local = user.run("datasets", "publish", str(source), "--name", "pets", "--version", "1.0.0",
                     HELDOUT_URL=url)  # HELDOUT_URL does not make it a server publish
    assert local.returncode == 1 and "no Heldout catalog here" in local.stderr

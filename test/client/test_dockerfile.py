"""docker/Dockerfile's install step, run here without Docker (no image can be pulled on this machine): its COPY
lines staged into a folder, its RUN command run with this Python in place of the image's, against a copy of
the image's /home/hummingbot layout (Hummingbot's package in the folder it runs from). What is not tested:
Hummingbot's image itself (its conda Python, pip reaching the registry during the build)."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys

from test.client.driver import REPO_ROOT, child_env
from test.client.test_install import make_checkout, scan

DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())  # join continued lines
    return [(line.split(None, 1)[0], line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_dockerfile_builds_on_hummingbots_image_and_installs_into_home_hummingbot():
    steps = instructions()
    assert steps[0] == ("ARG", "HUMMINGBOT_IMAGE=hummingbot/hummingbot:latest")
    assert steps[1] == ("FROM", "${HUMMINGBOT_IMAGE}")
    assert ("ARG", "HUMMINGBOT_PYTHON=/opt/conda/envs/hummingbot/bin/python") in steps
    run = [argument for kind, argument in steps if kind == "RUN"]
    assert len(run) == 1 and "--into /home/hummingbot" in run[0]


def test_the_dockerfiles_install_step_makes_hummingbots_scan_find_stellar(tmp_path):
    stage = tmp_path / "stage"
    home = make_checkout(tmp_path / "home-hummingbot")  # the image's /home/hummingbot
    command = None
    for kind, argument in instructions():
        if kind == "COPY":
            source, destination = argument.split()
            assert destination.startswith("/tmp/hummingbot-stellar/")
            shutil.copytree(REPO_ROOT / source, stage / destination.removeprefix("/tmp/hummingbot-stellar/"),
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif kind == "RUN":
            command = argument
    command = (command.replace("/tmp/hummingbot-stellar", str(stage)).replace("/home/hummingbot", str(home))
               .replace('"${HUMMINGBOT_PYTHON}"', shlex.quote(sys.executable)))
    completed = subprocess.run(["sh", "-c", command], cwd=tmp_path, env=child_env(PYTHONPATH=""),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "OK: Hummingbot's connector scan finds `stellar`" in completed.stdout
    assert not stage.exists()  # the build leaves no copy behind
    found = scan(home)
    assert found["stellar"] and found["stellar_testnet"]
    assert found["utils_file"].startswith(str(home / "hummingbot" / "connector" / "exchange" / "stellar"))


def test_the_build_context_holds_only_what_the_install_step_copies():
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
    kept = sorted(line[1:] for line in ignore if line.startswith("!"))
    copied = sorted(argument.split()[0] for kind, argument in instructions() if kind == "COPY")
    assert kept == copied
    assert "*" in ignore

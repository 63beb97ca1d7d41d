"""What the distribution installs: the wheel built from this tree, its top-level import names, and the
profiling package working under the name it is installed as (`hummingbot_stellar_profiling`), autostart hook
included, from a `pip install --no-deps --target` folder with no checkout on the path.

Why names matter: two distributions that install one top-level package into site-packages overwrite each
other's files. `profiling` is the import name of an unrelated PyPI project (an interactive profiler), so the
repository's `profiling/` folder is installed as `hummingbot_stellar_profiling`. `stellar_sandbox` is no
PyPI project's name (checked against PyPI's list of names when this was written); `hummingbot` carries only
our connector's folder, without Hummingbot's `__init__.py` files, so the installed Hummingbot keeps owning it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CONNECTOR = "hummingbot/connector/exchange/stellar/"
OUR_TOP_LEVEL = {"hummingbot_stellar_cli", "hummingbot_stellar_profiling", "stellar_sandbox"}
# Top-level names that another PyPI project installs (or that a repository commonly has): never ours to install.
TAKEN = {"profiling", "benchmarks", "test", "tests", "conf", "docs", "qa", "docker", "requirements"}
SKIPPED_FOLDERS = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "reports", "__pycache__",
                                         ".pytest_cache", ".ruff_cache", ".hypothesis", ".hummingbot-stellar",
                                         "logs", "data")

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip wheel` builds from a copy of this tree (no stale build/ folder can leak into it)."""
    source = tmp_path_factory.mktemp("source") / "hummingbot-stellar"
    shutil.copytree(REPO_ROOT, source, symlinks=True, ignore=SKIPPED_FOLDERS)
    out = tmp_path_factory.mktemp("wheel")
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
         "-q", str(source), "-w", str(out)], capture_output=True, text=True, timeout=240)
    assert completed.returncode == 0, completed.stderr
    wheels = list(out.glob("hummingbot_stellar-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def target(wheel, tmp_path_factory) -> Path:
    """The wheel installed with `pip install --no-deps --target` (nothing else of ours on the path)."""
    folder = tmp_path_factory.mktemp("target")
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check", "-q",
         "--target", str(folder), str(wheel)], capture_output=True, text=True, timeout=240)
    assert completed.returncode == 0, completed.stderr
    return folder


def names_in(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def run_installed(target: Path, args: list[str], cwd: Path, **variables: str) -> subprocess.CompletedProcess:
    """Python without `site` (no installed .pth line runs, no checkout on the path): `target`, then this
    environment's site-packages (Hummingbot and the libraries)."""
    site_packages = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "STELLAR_PROFILING")}
    environment["PYTHONPATH"] = os.pathsep.join([str(target), *site_packages])
    environment.update(variables)
    return subprocess.run([sys.executable, "-S", *args], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=240)


def test_every_top_level_name_the_wheel_installs_is_ours(wheel):
    names = names_in(wheel)
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    packages = {name for name in top_level if not name.endswith(".pth")}

    assert packages == OUR_TOP_LEVEL | {"hummingbot"}
    assert not packages & TAKEN
    assert top_level - packages == {"hummingbot_stellar_profiling.pth"}
    # under hummingbot/ only the connector's folder, none of Hummingbot's own package files
    assert all(name.startswith(CONNECTOR) for name in names if name.startswith("hummingbot/"))
    assert f"{CONNECTOR}stellar_exchange.py" in names
    # the metadata says the same
    top_level_txt = next(name for name in names if name.endswith(".dist-info/top_level.txt"))
    with zipfile.ZipFile(wheel) as archive:
        declared = set(archive.read(top_level_txt).decode().split())
    assert declared == OUR_TOP_LEVEL | {"hummingbot"}


def test_the_profiling_package_ships_whole_under_its_installed_name(wheel):
    names = set(names_in(wheel))
    for source in (REPO_ROOT / "profiling").rglob("*"):
        if source.suffix in (".py", ".json", ".yml") and "__pycache__" not in source.parts:
            relative = source.relative_to(REPO_ROOT / "profiling").as_posix()
            assert f"hummingbot_stellar_profiling/{relative}" in names, relative
    assert not [name for name in names if name.startswith("profiling/")]


def test_the_installed_packages_import_under_their_names_without_the_old_one(target, tmp_path):
    script = """
import importlib, pkgutil, sys
from pathlib import Path
target = Path(sys.argv[1]).resolve()
# each package first: Hummingbot's strategy modules put site-packages first on sys.path when imported
packages = [importlib.import_module(name) for name in ("hummingbot_stellar_profiling", "hummingbot_stellar_cli",
                                                        "stellar_sandbox")]
for package in packages:
    assert Path(package.__file__).resolve().is_relative_to(target), package.__file__
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
from hummingbot_stellar_profiling import sessions, strategies, memory, criteria
for lazy in (sessions, strategies):
    for name in lazy.__all__:
        getattr(lazy, name)
assert memory.RUNNER_STEP[1] == ("hummingbot_stellar_profiling.runner",), memory.RUNNER_STEP
assert criteria.default_catalogue_path().is_file()
ours = [module for name, module in list(sys.modules.items()) if name.split(".")[0] in
        ("hummingbot_stellar_profiling", "hummingbot_stellar_cli", "stellar_sandbox")]
assert all(Path(m.__file__).resolve().is_relative_to(target) for m in ours if getattr(m, "__file__", None))
old = sorted(name for name in sys.modules if name == "profiling" or name.startswith("profiling."))
assert not old, old
print("imported", len(sys.modules))
"""
    completed = run_installed(target, ["-c", script, str(target)], cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.startswith("imported")


def test_the_installed_profiling_command_runs_under_its_name(target, tmp_path):
    completed = run_installed(target, ["-m", "hummingbot_stellar_profiling", "run", "--help"], cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "--duration" in completed.stdout


def test_the_installed_pth_line_starts_the_installed_autostart_and_reports_at_exit(target, tmp_path):
    config = tmp_path / "profiling.yml"
    config.write_text(yaml.safe_dump({"output_dir": str(tmp_path / "reports"), "yappi": False, "memray": False,
                                      "report_on_exit": True, "sample_interval_s": 0.01,
                                      "scenario": "installed autostart"}), encoding="utf-8")
    script = """
import site, sys
from pathlib import Path
target = Path(sys.argv[1]).resolve()
assert "hummingbot_stellar_profiling.autostart" not in sys.modules
site.addsitedir(str(target))  # processes the target's .pth files, as site-packages' are at start-up
autostart = sys.modules["hummingbot_stellar_profiling.autostart"]
assert Path(autostart.__file__).resolve().is_relative_to(target), autostart.__file__
assert autostart.active_profiler() is not None
from hummingbot.connector.exchange.stellar import stellar_measurement as m
assert m.is_enabled()
m.record_value(m.ORDER_CREATE_ACK, 5_000_000)
assert not [name for name in sys.modules if name == "profiling" or name.startswith("profiling.")]
"""
    completed = run_installed(target, ["-c", script, str(target)], cwd=tmp_path, STELLAR_PROFILING=str(config))
    assert completed.returncode == 0, completed.stderr[-3000:]
    reports = list((tmp_path / "reports").glob("*/report.json"))
    assert len(reports) == 1, completed.stderr[-3000:]
    report = json.loads(reports[0].read_text(encoding="utf-8"))
    assert report["scenario"] == "installed autostart"
    assert report["latency"]["points"]["order_create.ack"]["avg_ms"] == 5.0
    assert report["sla"]


def test_the_installed_pth_line_imports_nothing_when_profiling_is_off(target, tmp_path):
    script = """
import site, sys
site.addsitedir(sys.argv[1])
loaded = sorted(name for name in sys.modules if "profiling" in name)
assert not loaded, loaded
"""
    completed = run_installed(target, ["-c", script, str(target)], cwd=tmp_path, STELLAR_PROFILING="0")
    assert completed.returncode == 0, completed.stderr[-3000:]


def test_profiling_modules_import_each_other_relatively():
    """An absolute `profiling` import works in a checkout and breaks (or loads a stranger's package) once
    installed under the other name: every import of our own modules in profiling/ is relative."""
    import ast

    absolute = []
    for path in sorted((REPO_ROOT / "profiling").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            absolute += [f"{path.relative_to(REPO_ROOT)}:{node.lineno} {name}" for name in names
                         if name == "profiling" or name.startswith("profiling.")]
    assert not absolute, absolute

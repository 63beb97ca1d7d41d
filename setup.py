"""hummingbot-stellar: a native Hummingbot connector for the Stellar DEX, an embedded Stellar
network for tests and demos, and profiling.

The distribution ships `hummingbot.connector.exchange.stellar` into an installed Hummingbot's
package tree (Hummingbot discovers connectors by scanning that folder), plus our own top-level
packages `stellar_sandbox`, `hummingbot_stellar_profiling` and `hummingbot_stellar_cli` (the `hummingbot-stellar`
command: install the connector into a source checkout, Docker's /home/hummingbot or another Python; check it;
run Hummingbot's client against the sandbox). It ships no `hummingbot/__init__.py` nor the intermediate ones, so
the installed Hummingbot keeps owning those packages.

The repository's `profiling/` folder installs as `hummingbot_stellar_profiling`: `profiling` is the import name
of an unrelated PyPI project (an interactive profiler), and two distributions writing one top-level package
into site-packages overwrite each other. The folder keeps its name in the repository (`python -m profiling`
from a checkout, the tests); its modules import each other relatively, so they work under both names.
test/test_distribution.py checks the wheel's top-level names.

Hummingbot itself is not declared here: on Python 3.11 its full dependency set cannot resolve,
so it is installed with --no-deps from requirements/ (see README).
"""
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

CONNECTOR_PACKAGE = "hummingbot.connector.exchange.stellar"
PROFILING_SOURCE = "profiling"  # the repository's folder ...
PROFILING_PACKAGE = "hummingbot_stellar_profiling"  # ... and the name it is installed under (see above)
PROFILING_PACKAGES = [PROFILING_PACKAGE + name[len(PROFILING_SOURCE):]
                      for name in find_packages(include=[PROFILING_SOURCE, PROFILING_SOURCE + ".*"])]
# The connector's own requirements are kept in one place, which `hummingbot-stellar install` also reads.
_requirements: dict = {}
exec(Path("hummingbot_stellar_cli", "requirements.py").read_text(encoding="utf-8"), _requirements)
CONNECTOR_REQUIREMENTS = list(_requirements["CONNECTOR_REQUIREMENTS"])
CLIENT_REQUIREMENTS = list(_requirements["CLIENT_REQUIREMENTS"])
# Lets profiling be switched on in any Hummingbot session by the environment alone
# (STELLAR_PROFILING, see conf/conf_stellar_profiling.yml). The line reads the variable before importing
# anything: unset, nothing of profiling is imported at start-up (every Python start of the environment reads it).
AUTOSTART_PTH = "hummingbot_stellar_profiling.pth"
AUTOSTART_LINE = ("import os; os.environ.get('STELLAR_PROFILING', '').strip().lower() in "
                  "('', '0', 'false', 'no', 'off') or __import__('hummingbot_stellar_profiling.autostart')\n")
assert f"'{PROFILING_PACKAGE}.autostart'" in AUTOSTART_LINE


class BuildPyWithAutostart(build_py):
    def run(self):
        super().run()
        Path(self.build_lib, AUTOSTART_PTH).write_text(AUTOSTART_LINE)

setup(
    name="hummingbot-stellar",
    version="0.1.0",
    description="Native Hummingbot exchange connector for the Stellar DEX (SDEX), with built-in profiling",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=[CONNECTOR_PACKAGE]
    + find_packages(include=["stellar_sandbox", "stellar_sandbox.*", "hummingbot_stellar_cli",
                             "hummingbot_stellar_cli.*"])
    + PROFILING_PACKAGES,
    package_dir={PROFILING_PACKAGE: PROFILING_SOURCE},
    package_data={CONNECTOR_PACKAGE: ["*.yml"], PROFILING_PACKAGE: ["*.json", "*.yml"]},
    install_requires=CONNECTOR_REQUIREMENTS + [
        "aiohttp>=3.9",
        "yappi>=1.6",
        "memray>=1.11",
        "matplotlib>=3.8",
    ],
    extras_require={
        # what Hummingbot's own start scripts import beyond its core (see requirements/hummingbot-client.txt)
        "client": CLIENT_REQUIREMENTS,
        "test": [
            "pexpect>=4.8",
            "pytest>=8",
            "pytest-asyncio>=0.23",
            "pytest-timeout>=2.2",
            "aioresponses>=0.7.6",
            "hypothesis>=6",
            "ruff>=0.5",
        ],
    },
    cmdclass={"build_py": BuildPyWithAutostart},
    entry_points={
        "console_scripts": [
            "stellar-sandbox=stellar_sandbox.__main__:main",
            "hummingbot-stellar=hummingbot_stellar_cli.__main__:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Topic :: Office/Business :: Financial :: Investment",
    ],
)

"""What the connector needs in the Python that runs Hummingbot, beyond Hummingbot's own dependencies.

The one list: `setup.py` reads it for `install_requires`, `install` passes it to pip in the target Python,
`probe.py` checks it there (the import name and the accepted major version of each).
"""
# pip requirement -> (import name, distribution name, accepted major versions)
CONNECTOR_REQUIREMENTS = {
    "stellar-sdk[aiohttp]>=16,<17": ("stellar_sdk", "stellar-sdk", (16,)),
    "cachetools>=5.3": ("cachetools", "cachetools", None),
    "PyNaCl>=1.5,<2": ("nacl", "PyNaCl", (1,)),   # stellar-sdk's ed25519; the signer calls it directly
}

# What Hummingbot's own client imports at start beyond the core list (requirements/hummingbot-core.txt):
# bin/hummingbot_quickstart.py imports hummingbot.core.management.console (asyncssh, ptpython) at its top.
CLIENT_REQUIREMENTS = {
    "asyncssh>=2.13.2": ("asyncssh", "asyncssh", None),
    "ptpython>=3.0": ("ptpython", "ptpython", None),
}

"""`hummingbot-stellar`: put the Stellar connector where a Hummingbot installation finds it, check that
installation, and run Hummingbot's own client against the embedded sandbox.

    hummingbot-stellar install [--into HUMMINGBOT_DIR] [--python PATH]   # see `install`
    hummingbot-stellar doctor  [--into HUMMINGBOT_DIR] [--python PATH]   # see `doctor`
    hummingbot-stellar client  [--headless] [--home DIR]                  # see `client`

`install` and `doctor` use only the standard library here and run their checks inside the target
Python (`probe.py`, run by path), so they work from a source tree, a wheel, or a Docker build context.
"""

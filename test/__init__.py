# Test package. It shadows the standard library's `test` package on purpose: Hummingbot's
# `test_support.exchange_connector_test` imports `test.isolated_asyncio_wrapper_test_case`,
# which Hummingbot's sdist does not ship, so this package provides it.

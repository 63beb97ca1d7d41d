"""Pure ledger rules of the sandbox network: state, matching, operations. No I/O."""

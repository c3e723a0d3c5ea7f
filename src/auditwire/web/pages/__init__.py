"""One module per page family: sign-in, namespaces, the audit log, streams."""

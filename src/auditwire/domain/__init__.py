"""Pure rules of auditwire: values and decisions, no I/O."""

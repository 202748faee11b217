"""fuwu: basic public service standards, machine-readable once, run everywhere."""

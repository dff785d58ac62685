"""The security suites: one pytest module per check family; items are generated from the catalogue."""

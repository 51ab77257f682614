"""ChangeGate's faces: the CLI and output formats (and, later, the language server).
They translate a Report; no rule logic lives here."""

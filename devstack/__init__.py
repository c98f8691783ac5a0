"""Local-stack tooling shared by scripts/dev, scripts/demo and the e2e tests."""

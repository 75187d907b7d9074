"""Policy acceptance tests: one Gherkin feature per measure, run by pytest-bdd (see docs/writing-scenarios.md)."""

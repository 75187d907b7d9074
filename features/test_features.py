"""Every scenario of every feature file (features/<issuer>/<measure-id>.feature) as a pytest test."""

from pathlib import Path

from pytest_bdd import scenarios

HERE = Path(__file__).parent

scenarios(*sorted(str(d) for d in HERE.iterdir() if d.is_dir() and any(d.glob("*.feature"))))

"""Each .feature file is a test module of its own, so that an officer can run one file by its path.

``pytest features/jinan/officer-trial.feature`` (or ``pytest features``, or a folder) collects the
scenarios of that file: pytest-bdd's ``scenario`` builds one test function per scenario, and
``FeatureFile`` hands pytest a module holding them, as if a ``test_*.py`` file had called
``scenarios(<file>)``. Node ids read ``features/jinan/x.feature::test_<场景名称>[<例子>]``.

Scenario Outline ids: pytest-bdd names each example row by its values (``71-满足-符合``) and pytest
escapes whatever is not ASCII in such an explicit id (``71-\\u6ee1\\u8db3-...``), unless the ini option
``disable_test_id_escaping_and_forfeit_all_rights_to_community_support`` turns escaping off for every
test of the project. Here the rows lose their explicit id instead and ``example_id`` names them through
pytest's documented ``pytest_make_parametrize_id`` hook, whose ids pytest takes as they are: the
scenario ids read in Chinese, and the rest of the suite keeps pytest's default. (The test function's
own name is the scenario's name, which pytest never escaped: the ids were Chinese already up to the
bracket, so escaping the bracket protected nothing.)
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from pytest_bdd.exceptions import GherkinParseError
from pytest_bdd.feature import get_feature
from pytest_bdd.scenario import get_python_name_generator, scenario

from .gherkin import parse_error_message

EXAMPLE_ARG = "_pytest_bdd_example"  # the argument pytest-bdd parametrizes an outline's rows by


class FeatureFile(pytest.Module):
    """A .feature file as a module of scenario tests."""

    def _getobj(self):
        path = Path(self.path)
        module = types.ModuleType(f"features.{path.parent.name}.{path.stem}", f"Scenarios of {path.name}")
        module.__file__ = str(path)
        try:
            feature = get_feature(str(path.parent), path.name)
        except GherkinParseError as e:
            raise self.CollectError(parse_error_message(path, e, Path(self.config.rootpath))) from None
        for name in feature.scenarios:
            fn = scenario(path.name, name, features_base_dir=str(path.parent))(_no_body)
            _ids_by_hook(fn)
            for test_name in get_python_name_generator(name):
                if not hasattr(module, test_name):
                    setattr(module, test_name, fn)
                    break
        return module


def _no_body() -> None:
    """A scenario's test does nothing after its steps."""


def _ids_by_hook(fn) -> None:
    """Drop pytest-bdd's explicit row ids, so that pytest asks pytest_make_parametrize_id (example_id)."""
    marks = []
    for mark in getattr(fn, "pytestmark", []):
        if mark.name == "parametrize" and mark.args and mark.args[0] == EXAMPLE_ARG:
            rows = [pytest.param(*p.values, marks=p.marks) for p in mark.args[1]]
            mark = pytest.mark.parametrize(EXAMPLE_ARG, rows, **mark.kwargs).mark
        marks.append(mark)
    fn.pytestmark = marks


def example_id(row: dict) -> str:
    """An example row's id: its values as written (71-满足-符合), safe inside a pytest node id."""
    text = "-".join(str(v) for v in row.values())
    # '::' separates node ids and '[' ']' enclose the id; a newline would break the terminal line
    return text.replace("::", ":").replace("[", "(").replace("]", ")").replace("\n", " ") or "空"


def is_scenario(item: pytest.Item) -> bool:
    return isinstance(item.parent, FeatureFile)

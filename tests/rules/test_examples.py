"""The legal examples shipped with the programmes (towns/rules/packs/examples/**.yaml): each example
is its own test case, run by the same runner as ``towns pack test``; and the runner can fail."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import pytest
import yaml

from towns.rules.examples import ExampleResult, run_file

EXAMPLES = Path(str(resources.files("towns.rules") / "packs" / "examples"))


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _label(name: str) -> str:
    """The English half of a name written "中文 — English" (pytest escapes non-ASCII ids), else the name."""
    return name.split(" — ", 1)[1].strip() if " — " in name else name


def example_cases() -> list:
    """One case per example, by file and position; a file that cannot be read is one (failing) case."""
    cases = []
    for path in example_files():
        where = path.relative_to(EXAMPLES).with_suffix("").as_posix()
        try:
            docs = yaml.safe_load(path.read_text("utf-8"))
        except (OSError, yaml.YAMLError):
            docs = None
        if not isinstance(docs, list) or not docs:
            cases.append(pytest.param(path, 0, id=f"{where}: (file)"))
            continue
        for i, raw in enumerate(docs):
            name = raw.get("name") if isinstance(raw, dict) else None
            cases.append(pytest.param(path, i, id=f"{where}: {_label(str(name or f'example {i + 1}'))}"))
    return cases


CASES = example_cases()


@cache
def results_of(path: Path) -> tuple[ExampleResult, ...]:
    """The runner over a whole file, once per file for all its cases."""
    return tuple(run_file(path))


def test_the_examples_are_found():
    assert EXAMPLES.is_dir(), EXAMPLES
    assert example_files(), f"no example files under {EXAMPLES}"
    assert len(CASES) >= len(example_files())


@pytest.mark.parametrize(("path", "index"), CASES)
def test_example(path: Path, index: int):
    results = results_of(path)
    assert results, f"{path}: the file holds no examples"
    r = results[index] if index < len(results) else results[0]
    assert r.ok, "\n".join([f"{r.file}: {r.name}", *(f"  {p}" for p in r.problems)])


WRONG = """\
- name: 正确的期望 — a right expectation passes
  pack: sx2018
  kind: monthly
  period: 2018-06
  towns:
    - code: EX-RIGHT
      tier: provincial_creation
      industry: fashion
      listed_year: 2016
      reports:
        2018-06: {fai: 10, industry_fai: 8, nongov_fai: 8}
  expect:
    EX-RIGHT:
      findings:
        nongov-share: {passed: true, value: 0.8, threshold: 0.8, clause: SX2018-G4}

- name: 故意写错的结论 — exactly 80 % wrongly expected to fail
  pack: sx2018
  kind: monthly
  period: 2018-06
  towns:
    - code: EX-WRONG
      tier: provincial_creation
      industry: fashion
      listed_year: 2016
      reports:
        2018-06: {fai: 10, industry_fai: 8, nongov_fai: 8}
  expect:
    EX-WRONG:
      findings:
        nongov-share: failed

- name: 故意写错的门槛和条款 — a wrong threshold and clause
  pack: sx2018
  kind: monthly
  period: 2018-06
  towns:
    - code: EX-WRONG-2
      tier: provincial_creation
      industry: fashion
      listed_year: 2016
      reports:
        2018-06: {fai: 10, industry_fai: 8, nongov_fai: 8}
  expect:
    EX-WRONG-2:
      findings:
        nongov-share: {passed: true, threshold: 0.7, clause: SX2018-G3}
"""


def test_a_wrong_expectation_is_reported_naming_the_finding(tmp_path: Path):
    f = tmp_path / "wrong.yaml"
    f.write_text(WRONG, encoding="utf-8")
    right, wrong, wrong_table = run_file(f)

    assert right.ok and right.problems == []

    assert not wrong.ok and wrong.name.startswith("故意写错的结论")
    assert len(wrong.problems) == 1
    problem = wrong.problems[0]
    assert "EX-WRONG" in problem and "nongov-share" in problem
    assert "expected failed" in problem and "passed" in problem

    assert not wrong_table.ok
    assert len(wrong_table.problems) == 2
    assert any("nongov-share.threshold" in p and "0.7" in p for p in wrong_table.problems)
    assert any("nongov-share.clause" in p and "SX2018-G3" in p for p in wrong_table.problems)

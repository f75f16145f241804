"""The durable_rules engine behind the rules interface."""

import threading

import pytest

from towns.rules.engine import DurableRulesEngine, Fact, RuleSpec

SPECS = (RuleSpec("min-rule", ("a", "b")), RuleSpec("max-rule", ("a",), direction="max"))


def test_verdicts_per_fact_in_order():
    eng = DurableRulesEngine()
    got = eng.judge(
        "test_engine_1",
        SPECS,
        [
            Fact("min-rule", "a", 0),
            Fact("min-rule", "b", -1),
            Fact("min-rule", "c", 1),
            Fact("max-rule", "a", 1),
            Fact("max-rule", "a", 0),
            Fact("max-rule", "b", -1),
        ],
    )
    assert got == ["passed", "failed", "not_applicable", "failed", "passed", "not_applicable"]


def test_unknown_rule_is_an_error_not_a_silent_pass():
    with pytest.raises(KeyError):
        DurableRulesEngine().judge("test_engine_1", SPECS, [Fact("nope", "a", 0)])


def test_concurrent_evaluations_do_not_mix_results():
    eng = DurableRulesEngine()
    errors = []

    def work(i):
        try:
            for _ in range(50):
                cmp = 1 if i % 2 else -1
                assert eng.judge("test_engine_1", SPECS, [Fact("min-rule", "a", cmp)]) == [
                    "passed" if cmp > 0 else "failed"
                ]
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors

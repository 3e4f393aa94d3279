"""Skill requirement expressions: grammar, precedence, levels and error messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.errors import InvalidConfig, InvalidSkillExpression
from router.skills import (
    AllOf,
    AnyOf,
    Anything,
    Requirement,
    SkillExpr,
    both,
    either,
    parse,
    proficiency_score,
    skills_in,
)

A, B, C = Requirement("a"), Requirement("b"), Requirement("c")


def test_and_binds_tighter_than_or_with_symbols() -> None:
    assert parse("a & b | c") == AnyOf((AllOf((A, B)), C))
    assert parse("a | b & c") == AnyOf((A, AllOf((B, C))))


def test_and_or_words_are_the_same_operators_in_any_case() -> None:
    assert parse("a and b or c") == parse("a & b | c")
    assert parse("a AND b Or c") == parse("a & b | c")


def test_parentheses_override_precedence() -> None:
    assert parse("a & (b | c)") == AllOf((A, AnyOf((B, C))))
    assert parse("(a | b) & c") == AllOf((AnyOf((A, B)), C))


def test_chains_of_one_operator_flatten() -> None:
    assert parse("a & b & c") == AllOf((A, B, C))
    assert parse("a | (b | c)") == AnyOf((A, B, C))


def test_skill_names_that_start_with_and_or_are_not_operators() -> None:
    assert parse("android & orders") == AllOf((Requirement("android"), Requirement("orders")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("billing", Requirement("billing", ">=", 1)),
        ("billing>=5", Requirement("billing", ">=", 5)),
        ("billing > 5", Requirement("billing", ">", 5)),
        ("billing=5", Requirement("billing", "==", 5)),
        ("billing==5", Requirement("billing", "==", 5)),
        ("billing<=3", Requirement("billing", "<=", 3)),
        ("billing<3", Requirement("billing", "<", 3)),
        ("billing>=10", Requirement("billing", ">=", 10)),
        ("billing>=1", Requirement("billing", ">=", 1)),
    ],
)
def test_levels_and_operators(text: str, expected: Requirement) -> None:
    assert parse(text) == expected


def test_level_semantics_on_agent_skills() -> None:
    expr = parse("billing>=5 & (english>=3 | spanish)")
    assert expr.matches({"billing": 5, "english": 3})
    assert expr.matches({"billing": 9, "spanish": 1})
    assert not expr.matches({"billing": 4, "english": 9})  # level too low
    assert not expr.matches({"billing": 5, "english": 2})
    assert not expr.matches({"english": 10, "spanish": 10})  # skill missing
    assert parse("billing<3").matches({"billing": 2})
    assert not parse("billing<3").matches({})  # "less than" still needs the skill


def test_empty_and_star_mean_anything() -> None:
    assert parse("") == Anything()
    assert parse("  * ") == Anything()
    assert parse("*").matches({})


def test_str_round_trips_with_minimal_parentheses() -> None:
    expr = parse("billing>=5 and (english>=3 or spanish)")
    assert str(expr) == "billing>=5 & (english>=3 | spanish>=1)"
    assert parse(str(expr)) == expr
    assert str(parse("a & b | c")) == "a>=1 & b>=1 | c>=1"


def test_unknown_skill_error_names_it_and_lists_the_declared_ones() -> None:
    with pytest.raises(InvalidSkillExpression) as err:
        parse("billing & spanish>=3", known_skills={"billing", "english"})
    message = err.value.message
    assert "unknown skill spanish" in message
    assert "declared: billing, english" in message
    assert err.value.code == "invalid_skill_expression"
    assert isinstance(err.value, InvalidConfig)


def test_known_skills_accepts_declared_ones() -> None:
    assert parse("billing | english", known_skills={"billing", "english"}) == AnyOf(
        (Requirement("billing"), Requirement("english"))
    )


@pytest.mark.parametrize("level", [0, 11, 99])
def test_level_outside_1_to_10_is_rejected_with_the_level(level: int) -> None:
    with pytest.raises(InvalidSkillExpression, match=f"level {level} outside 1-10"):
        parse(f"sales>={level}")


@pytest.mark.parametrize("text", ["(a & b", "((a | b) & c", "(a"])
def test_unclosed_parenthesis_says_missing_close(text: str) -> None:
    with pytest.raises(InvalidSkillExpression, match=r"missing '\)'"):
        parse(text)


@pytest.mark.parametrize("text", ["a & b)", "a)"])
def test_stray_close_parenthesis_is_named(text: str) -> None:
    with pytest.raises(InvalidSkillExpression, match=r"unexpected '\)'"):
        parse(text)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("sales >= x", "expected a level 1-10, got 'x'"),
        ("sales & & b", "expected a skill name, got '&'"),
        ("sales >=", "ends too early"),
        ("sales &", "ends too early"),
        ("sales$", "cannot read '$'"),
        ("a b", "unexpected 'b'"),
        ("5 & a", "expected a skill name, got '5'"),
    ],
)
def test_malformed_expressions_name_the_problem(text: str, needle: str) -> None:
    with pytest.raises(InvalidSkillExpression) as err:
        parse(text)
    assert needle in err.value.message
    assert repr(text) in err.value.message or repr(text.strip()) in err.value.message


def test_skills_in_and_proficiency_score() -> None:
    expr = parse("billing>=5 & (english | spanish>=2)")
    assert skills_in(expr) == {"billing", "english", "spanish"}
    assert proficiency_score(expr, {"billing": 7, "english": 2, "french": 9}) == 9
    assert skills_in(Anything()) == set()


def test_both_and_either_absorb_anything() -> None:
    assert both(Anything(), A) == A
    assert both(A, Anything()) == A
    assert either(A, Anything()) == Anything()


# -- property: printing and re-parsing any expression built by the grammar's combinators


_names = st.sampled_from(["a", "b", "sales", "en_gb", "tier.2"])
_leaves = st.builds(
    Requirement,
    _names,
    st.sampled_from([">=", ">", "==", "<=", "<"]),
    st.integers(min_value=1, max_value=10),
)


def _combine(children: st.SearchStrategy[SkillExpr]) -> st.SearchStrategy[SkillExpr]:
    return st.one_of(
        st.builds(both, children, children),
        st.builds(either, children, children),
    )


_exprs = st.recursive(_leaves, _combine, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(expr=_exprs, skills=st.dictionaries(_names, st.integers(1, 10), max_size=5))
def test_printed_expression_parses_back_to_the_same_meaning(
    expr: SkillExpr, skills: dict[str, int]
) -> None:
    again = parse(str(expr))
    assert again == expr
    assert again.matches(skills) == expr.matches(skills)

"""Skill requirement expressions: ``billing>=5 & (english>=3 | spanish)``.

Grammar (``&``/``and`` binds tighter than ``|``/``or``)::

    expr   := term (('|' | 'or') term)*
    term   := factor (('&' | 'and') factor)*
    factor := '(' expr ')' | SKILL [OP LEVEL]
    OP     := '>=' | '>' | '==' | '=' | '<=' | '<'

A bare skill means "has it at level 1 or more". Proficiency runs 1..10. Expressions
are parsed and checked against the declared skills when the configuration loads,
so a typo is a config error, never a queue that silently matches nobody.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mypy_extensions import mypyc_attr

from router.errors import InvalidSkillExpression

MIN_LEVEL, MAX_LEVEL = 1, 10

_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
    "=": operator.eq,
    "<=": operator.le,
    "<": operator.lt,
}
_TOKEN = re.compile(r"\s*(>=|<=|==|[()&|=<>]|[A-Za-z_][\w.\-]*|\d+)")


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True)
class Requirement:
    """One leaf: ``skill OP level``."""

    skill: str
    op: str = ">="
    level: int = 1

    def matches(self, skills: Mapping[str, int]) -> bool:
        have = skills.get(self.skill)
        return have is not None and _OPS[self.op](have, self.level)

    def __str__(self) -> str:
        return f"{self.skill}{self.op}{self.level}"


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[SkillExpr, ...]

    def matches(self, skills: Mapping[str, int]) -> bool:
        return all(p.matches(skills) for p in self.parts)

    def __str__(self) -> str:
        return " & ".join(_wrap(p, AnyOf) for p in self.parts)


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[SkillExpr, ...]

    def matches(self, skills: Mapping[str, int]) -> bool:
        return any(p.matches(skills) for p in self.parts)

    def __str__(self) -> str:
        return " | ".join(str(p) for p in self.parts)


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True)
class Anything:
    """The empty requirement: every agent qualifies."""

    def matches(self, skills: Mapping[str, int]) -> bool:
        return True

    def __str__(self) -> str:
        return "*"


SkillExpr = Requirement | AllOf | AnyOf | Anything


def _wrap(expr: SkillExpr, kind: type) -> str:
    return f"({expr})" if isinstance(expr, kind) else str(expr)


def skills_in(expr: SkillExpr) -> set[str]:
    """Every skill name the expression mentions."""
    if isinstance(expr, Requirement):
        return {expr.skill}
    if isinstance(expr, Anything):
        return set()
    return set().union(*(skills_in(p) for p in expr.parts))


@functools.lru_cache(maxsize=4096)
def _mentioned(expr: SkillExpr) -> frozenset[str]:
    """`skills_in`, remembered: expressions are frozen, and the most-skilled policy asks
    for the same few on every agent push."""
    return frozenset(skills_in(expr))


def proficiency_score(expr: SkillExpr, skills: Mapping[str, int]) -> int:
    """Sum of the agent's levels on the skills the expression mentions (most-skilled policy)."""
    return sum(skills.get(name, 0) for name in _mentioned(expr))


def both(first: SkillExpr, second: SkillExpr) -> SkillExpr:
    """``first AND second``, flattening nested conjunctions."""
    if isinstance(first, Anything):
        return second
    if isinstance(second, Anything):
        return first
    left = first.parts if isinstance(first, AllOf) else (first,)
    right = second.parts if isinstance(second, AllOf) else (second,)
    return AllOf(left + right)


def either(first: SkillExpr, second: SkillExpr) -> SkillExpr:
    """``first OR second``."""
    if isinstance(first, Anything) or isinstance(second, Anything):
        return Anything()
    left = first.parts if isinstance(first, AnyOf) else (first,)
    right = second.parts if isinstance(second, AnyOf) else (second,)
    return AnyOf(left + right)


def parse(text: str, known_skills: set[str] | None = None) -> SkillExpr:
    """Parse ``text``; with ``known_skills`` also reject skills nobody declared."""
    tokens = _tokenize(text)
    if not tokens or tokens == ["*"]:
        return Anything()
    parser = _Parser(tokens, text)
    expr = parser.expression()
    if parser.pos != len(tokens):
        raise InvalidSkillExpression(f"unexpected {tokens[parser.pos]!r} in {text!r}")
    if known_skills is not None:
        unknown = sorted(skills_in(expr) - known_skills)
        if unknown:
            raise InvalidSkillExpression(
                f"unknown skill {', '.join(unknown)} in {text!r} (declared: "
                f"{', '.join(sorted(known_skills)) or 'none'})"
            )
    return expr


def _tokenize(text: str) -> list[str]:
    stripped = text.strip()
    if stripped == "*":
        return ["*"]
    tokens: list[str] = []
    pos = 0
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None:
            raise InvalidSkillExpression(f"cannot read {stripped[pos:]!r} in {text!r}")
        token = match.group(1)
        tokens.append({"and": "&", "or": "|"}.get(token.lower(), token))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens, self.text, self.pos = tokens, text, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise InvalidSkillExpression(f"expression ends too early: {self.text!r}")
        self.pos += 1
        return token

    def expression(self) -> SkillExpr:
        expr = self.term()
        while self.peek() == "|":
            self.take()
            expr = either(expr, self.term())
        return expr

    def term(self) -> SkillExpr:
        expr = self.factor()
        while self.peek() == "&":
            self.take()
            expr = both(expr, self.factor())
        return expr

    def factor(self) -> SkillExpr:
        token = self.take()
        if token == "(":
            expr = self.expression()
            if self.peek() != ")":  # also at the end: "(a & b" lacks its ')'
                raise InvalidSkillExpression(f"missing ')' in {self.text!r}")
            self.take()
            return expr
        if not (token[0].isalpha() or token[0] == "_"):
            raise InvalidSkillExpression(f"expected a skill name, got {token!r} in {self.text!r}")
        if self.peek() in _OPS:
            op = self.take()
            return Requirement(token, "==" if op == "=" else op, self.level())
        return Requirement(token)

    def level(self) -> int:
        token = self.take()
        if not token.isdigit():
            raise InvalidSkillExpression(f"expected a level 1-10, got {token!r} in {self.text!r}")
        level = int(token)
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise InvalidSkillExpression(f"level {level} outside 1-10 in {self.text!r}")
        return level

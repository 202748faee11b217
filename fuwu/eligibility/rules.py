"""The rule language: safe SQL expressions over the facts vocabulary.

A rule is written in a standard file as named criteria (boolean expressions)
and optional level expressions (amount, units). Expressions are parsed by
sqlglot and checked against a whitelist *at load time*: only declared facts,
literals, comparisons, boolean logic, IN / BETWEEN / IS / CASE, arithmetic
without division, and a short list of functions. Statements, subqueries,
unknown names and anything else are refused with the offending token.

The same checked expression then runs in two ways that must agree exactly:

* ``evaluate`` — in Python, for one resident, with SQL's three-valued logic
  (``None`` is unknown), so the answer can be explained criterion by criterion;
* ``to_sql`` — transpiled to DuckDB, PostgreSQL or Spark SQL, for everyone.

Dated parameters are named with ``param('id')`` or ``param('id', 'band')``
and are replaced by the value in force on the as-of date before either runs.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from fuwu.eligibility.facts import FACTS, FactType

Value = bool | int | Decimal | str | dt.date | None

# Division is left out on purpose: engines disagree on integer division and on
# the scale of decimal quotients, and a rule can always multiply by 0.5.
ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.And,
    exp.Or,
    exp.Not,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Case,
    exp.If,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Neg,
    exp.Coalesce,
    exp.Greatest,
    exp.Least,
    exp.Abs,
    exp.Anonymous,  # only param(...), checked below
)
ALLOWED_FUNCTIONS = ("coalesce", "greatest", "least", "abs", "param")
MONEY = Decimal("0.01")


class RuleError(ValueError):
    """A rule expression that cannot be accepted; ``token`` is the offending part."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.token = token


ParameterTable = Mapping[str, list[tuple[dt.date, Decimal | dict[str, Decimal]]]]


@dataclass(frozen=True)
class Expression:
    """A checked expression and the facts it reads."""

    source: str
    tree: exp.Expression
    facts: frozenset[str]


# How deeply a rule may nest: far beyond any real rule, far below what the parser's and the evaluators'
# recursion can take (a rule nested 3,000 parentheses deep crashed the validator).
MAX_PARENTHESES = 24
MAX_TREE_DEPTH = 256


def parenthesis_depth(source: str) -> int:
    """The deepest nesting of parentheses in ``source``, outside quoted strings."""
    depth = deepest = 0
    quote = ""
    for char in source:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def tree_depth(tree: exp.Expression) -> int:
    """The depth of a parsed expression, counted without recursion."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest


def _too_deep(what: str) -> str:
    return f"{what}; split the rule into named criteria or simplify it"


class Vocabulary:
    """The names an expression may read: the facts for eligibility rules, a data view's columns for indicators.

    ``columns`` maps a name to anything with ``allowed`` (the values a categorical name may take); ``what``
    and ``where`` name them in error messages.
    """

    def __init__(self, columns: Mapping[str, Any], *, what: str, where: str) -> None:
        self.columns, self.what, self.where = columns, what, where


FACTS_VOCABULARY = Vocabulary(FACTS, what="fact", where="the facts vocabulary (docs/facts.md)")


def parse(source: str, *, parameters: ParameterTable, vocabulary: Vocabulary = FACTS_VOCABULARY) -> Expression:
    """Parse and check one expression; raise RuleError naming the offending token.

    ``vocabulary`` is what the expression may name: the facts by default, or a data view's columns.
    """
    nesting = parenthesis_depth(source)
    if nesting > MAX_PARENTHESES:
        raise RuleError(_too_deep(f"parentheses nested {nesting} deep; at most {MAX_PARENTHESES}"), source[:60])
    try:
        statements = sqlglot.parse(source)
    except (ParseError, sqlglot.errors.TokenError) as exc:
        raise RuleError(f"not a valid expression: {exc}".splitlines()[0], source) from exc
    except RecursionError as exc:  # e.g. NOT NOT NOT … thousands deep, without a parenthesis
        raise RuleError(_too_deep("the expression is nested too deeply to read"), source[:60]) from exc
    if len(statements) != 1 or statements[0] is None:
        raise RuleError("exactly one expression is allowed, without ';'", source)
    tree = cast(exp.Expression, statements[0])
    depth = tree_depth(tree)
    if depth > MAX_TREE_DEPTH:
        raise RuleError(_too_deep(f"the expression is {depth} levels deep; at most {MAX_TREE_DEPTH}"), source[:60])
    facts: set[str] = set()
    for node in tree.walk():
        if not isinstance(node, ALLOWED_NODES):
            raise RuleError(
                f"{type(node).__name__.upper()} is not allowed in a rule; allowed: facts, literals, comparisons, "
                f"AND/OR/NOT, IN, BETWEEN, IS, CASE, + - *, and the functions {', '.join(ALLOWED_FUNCTIONS)}",
                node.sql()[:60],
            )
        if isinstance(node, exp.Column):
            if node.table:
                raise RuleError(f"{vocabulary.what}s are named without a table prefix", node.sql())
            if node.name not in vocabulary.columns:
                raise RuleError(f"unknown {vocabulary.what} {node.name!r}; see {vocabulary.where}", node.name)
            facts.add(node.name)
        elif isinstance(node, exp.Anonymous):
            _check_param_call(node, parameters)
        elif isinstance(node, exp.Literal) and not node.is_string and "." in node.this:
            Decimal(node.this)  # numeric literals must be exact decimals
        elif isinstance(node, (exp.EQ, exp.NEQ, exp.In)):
            _check_allowed_values(node, vocabulary.columns)
    return Expression(source=source, tree=tree, facts=frozenset(facts))


def _check_param_call(node: exp.Anonymous, parameters: ParameterTable) -> None:
    if str(node.this).lower() != "param":
        raise RuleError(
            f"function {node.this}() is not allowed; allowed: {', '.join(ALLOWED_FUNCTIONS)}", str(node.this)
        )
    args = node.expressions
    if not 1 <= len(args) <= 2 or not all(isinstance(a, exp.Literal) and a.is_string for a in args):
        raise RuleError("param() takes a parameter id and optionally a band, as quoted strings", node.sql())
    key = args[0].this
    if key not in parameters:
        known = ", ".join(sorted(parameters)) or "none"
        raise RuleError(f"parameter {key!r} is not declared in this standard; declared: {known}", key)
    values = parameters[key]
    if len(args) == 2:
        band = args[1].this
        for _, value in values:
            if not isinstance(value, dict) or band not in value:
                raise RuleError(f"parameter {key!r} has no band {band!r} in every dated value", band)
    elif any(isinstance(value, dict) for _, value in values):
        raise RuleError(f"parameter {key!r} is a table; name the band: param('{key}', '<band>')", key)


def _check_allowed_values(node: exp.Expression, columns: Mapping[str, Any]) -> None:
    # Catch typos in categorical values ('destitue') at load time, not as a silent "no".
    column = node.this if isinstance(node.this, exp.Column) else None
    if column is None or column.name not in columns:
        return
    fact = columns[column.name]
    if not fact.allowed:
        return
    others = node.expressions if isinstance(node, exp.In) else [node.expression]
    for other in others:
        if isinstance(other, exp.Literal) and other.is_string and other.this not in fact.allowed:
            raise RuleError(
                f"{other.this!r} is not a value of {fact.name}; allowed: {', '.join(fact.allowed)}", other.this
            )


# --- binding parameters -------------------------------------------------------


def parameter_value(values: list[tuple[dt.date, Any]], as_of: dt.date) -> Any:
    """The value in force on ``as_of``: the latest that took effect on or before it."""
    current = None
    for effective_from, value in values:
        if effective_from <= as_of:
            current = value
    return current


def is_param(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).lower() == "param"


def param_value(node: exp.Expression, *, parameters: ParameterTable, as_of: dt.date) -> Any:
    """What the ``param('id')`` or ``param('id', 'band')`` ``node`` stands for on ``as_of`` (None if none yet)."""
    args = [a.this for a in node.expressions]
    value = parameter_value(parameters[args[0]], as_of)
    if value is not None and len(args) == 2:
        value = value[args[1]]
    return value


def bind(expression: Expression, *, parameters: ParameterTable, as_of: dt.date) -> exp.Expression:
    """The expression with every param(...) replaced by its value on ``as_of`` (NULL if none yet)."""

    def replace(node: exp.Expression) -> exp.Expression:
        if is_param(node):
            value = param_value(node, parameters=parameters, as_of=as_of)
            return exp.null() if value is None else exp.Literal.number(str(value))
        return node

    return expression.tree.transform(replace, copy=True)


# --- Python evaluation, with SQL's three-valued logic ---------------------------

COMPARE: dict[type[exp.Expression], Callable[[Any, Any], bool]] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
}
ARITHMETIC: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
}


def _literal(node: exp.Literal) -> Value:
    if node.is_string:
        return str(node.this)
    text = str(node.this)
    return Decimal(text) if any(c in text for c in ".eE") else int(text)


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    # Dates compare with ISO strings the way SQL engines cast them.
    if isinstance(a, dt.date) and isinstance(b, str):
        return a, dt.date.fromisoformat(b)
    if isinstance(b, dt.date) and isinstance(a, str):
        return dt.date.fromisoformat(a), b
    return a, b


Fn = Callable[[Mapping[str, Value]], Value]


def _and(left: Value, right: Value) -> Value:
    if left is False or right is False:
        return False
    return None if left is None or right is None else True


def _or(left: Value, right: Value) -> Value:
    if left is True or right is True:
        return True
    return None if left is None or right is None else False


def _compare(op: Callable[[Any, Any], bool], left: Value, right: Value) -> Value:
    if left is None or right is None:
        return None
    return op(*_comparable(left, right))


def compile_tree(tree: exp.Expression) -> Fn:
    """A bound expression as a Python function of the facts, with SQL's three-valued logic.

    Compiling once per rule and date, instead of walking the tree per person,
    is what makes the one-resident path fast enough to check the batch engines
    on a whole population.
    """
    if isinstance(tree, exp.Paren):
        return compile_tree(tree.this)
    if isinstance(tree, exp.Column):
        name = tree.name
        return lambda f: f.get(name)
    if isinstance(tree, (exp.Literal, exp.Boolean, exp.Null)):
        constant = (
            _literal(tree)
            if isinstance(tree, exp.Literal)
            else (bool(tree.this) if isinstance(tree, exp.Boolean) else None)
        )
        return lambda f: constant
    if isinstance(tree, (exp.And, exp.Or)):
        left, right = compile_tree(tree.this), compile_tree(tree.expression)
        combine = _and if isinstance(tree, exp.And) else _or
        return lambda f: combine(left(f), right(f))
    if isinstance(tree, exp.Not):
        inner = compile_tree(tree.this)

        def negate(f: Mapping[str, Value]) -> Value:
            value = inner(f)
            return None if value is None else not value

        return negate
    if type(tree) in COMPARE:
        op, left, right = COMPARE[type(tree)], compile_tree(tree.this), compile_tree(tree.expression)
        return lambda f: _compare(op, left(f), right(f))
    if isinstance(tree, exp.Is):
        inner, target = compile_tree(tree.this), tree.expression
        if isinstance(target, exp.Null):
            return lambda f: inner(f) is None
        wanted = bool(target.this)
        return lambda f: inner(f) is wanted
    if isinstance(tree, exp.In):
        inner, options = compile_tree(tree.this), [compile_tree(e) for e in tree.expressions]

        def member(f: Mapping[str, Value]) -> Value:
            value = inner(f)
            if value is None:
                return None
            values = [o(f) for o in options]
            if any(v is not None and operator.eq(*_comparable(value, v)) for v in values):
                return True
            return None if any(v is None for v in values) else False

        return member
    if isinstance(tree, exp.Between):
        inner, low, high = compile_tree(tree.this), compile_tree(tree.args["low"]), compile_tree(tree.args["high"])
        return lambda f: _and(_compare(operator.ge, inner(f), low(f)), _compare(operator.le, inner(f), high(f)))
    if isinstance(tree, (exp.Case, exp.If)):
        if isinstance(tree, exp.Case):
            branches = [(compile_tree(b.this), compile_tree(b.args["true"])) for b in tree.args.get("ifs") or []]
            default = tree.args.get("default")
        else:
            branches = [(compile_tree(tree.this), compile_tree(tree.args["true"]))]
            default = tree.args.get("false")
        otherwise = compile_tree(default) if default is not None else (lambda f: None)

        def case(f: Mapping[str, Value]) -> Value:
            for condition, result in branches:
                if condition(f) is True:
                    return result(f)
            return otherwise(f)

        return case
    if type(tree) in ARITHMETIC:
        op, left, right = ARITHMETIC[type(tree)], compile_tree(tree.this), compile_tree(tree.expression)

        def arithmetic(f: Mapping[str, Value]) -> Value:
            a, b = left(f), right(f)
            return None if a is None or b is None else op(a, b)

        return arithmetic
    if isinstance(tree, (exp.Neg, exp.Abs)):
        inner = compile_tree(tree.this)
        unary: Callable[[Any], Any] = operator.neg if isinstance(tree, exp.Neg) else abs
        return lambda f: None if (v := inner(f)) is None else unary(v)
    if isinstance(tree, exp.Coalesce):
        parts = [compile_tree(p) for p in [tree.this, *tree.expressions]]
        return lambda f: next((v for v in (p(f) for p in parts) if v is not None), None)
    if isinstance(tree, (exp.Greatest, exp.Least)):
        # PostgreSQL, DuckDB and Spark skip NULLs in GREATEST/LEAST.
        parts = [compile_tree(p) for p in [tree.this, *tree.expressions]]
        pick: Callable[..., Any] = max if isinstance(tree, exp.Greatest) else min

        def extreme(f: Mapping[str, Value]) -> Value:
            values = [v for v in (p(f) for p in parts) if v is not None]
            return pick(values) if values else None

        return extreme
    raise RuleError(f"cannot evaluate {type(tree).__name__}", tree.sql())


def evaluate(tree: exp.Expression, facts: Mapping[str, Value]) -> Value:
    """Evaluate a bound expression for one person. ``None`` is SQL NULL (unknown)."""
    return compile_tree(tree)(facts)


def money(value: Value) -> Decimal | None:
    """A level amount rounded to the fen, half away from zero, as every engine rounds it."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(MONEY, rounding=ROUND_HALF_UP)


def to_sql(tree: exp.Expression, dialect: str) -> str:
    """The bound expression in an engine's SQL dialect (duckdb, postgres, spark)."""
    return tree.sql(dialect=dialect)


__all__ = [
    "Expression",
    "FactType",
    "RuleError",
    "Vocabulary",
    "bind",
    "evaluate",
    "money",
    "parameter_value",
    "parse",
    "to_sql",
]

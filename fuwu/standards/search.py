"""Search in residents' words: the standards in force, found by what people type (ADR 12, docs/search.md).

A query goes through four steps:

1. **Normalise**: full-width to half-width (NFKC), lower case, at most 100 characters.
2. **Words**: each space-separated part is kept whole when the standards contain it (上门, 居家养老) or the
   synonym list knows it; otherwise jieba cuts it into words (老人吃饭 → 老人 / 吃饭), with the names of the
   items in force and the synonym words in its dictionary so they stay whole. Words in the list's ``ignore``
   (怎么, 申请) are dropped; an age (80岁, 八十岁) becomes an age.
3. **Meanings**: each word stands for itself and the standard terms the synonym list gives it
   (洗澡 → 助浴); an age stands for the items whose target group's rule admits that age.
4. **Rank**: every word must be found (in any of its meanings). Items rank by where their words are found —
   the item's own name first (an exact name, 最低生活保障 for 低保, above all), then its category, who it is
   for, what it gives — and ties keep the menu's order. Standards and clauses are listed after items.

The index (every searchable text, normalised once, with the model rows to show) is built once per set of
versions in force — keyed by their ids and content hashes, so a load, a publication or an abolition builds a
new one, never a stale one — and by the synonym file's size and time, so editing it takes effect at once.
What one word finds is then remembered in the index, so repeated words cost a dictionary look-up.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import jieba  # type: ignore[import-untyped]
from django.conf import settings
from django.core import checks
from django.db import connection

from fuwu.eligibility.rules import RuleError, compile_tree, parse
from fuwu.standards.models import IN_FORCE, Clause, ServiceItem, StandardVersion
from fuwu.standards.parsing import FileError, StandardFileError, read_yaml_reporting

logger = logging.getLogger(__name__)

MAX_QUERY = 100
MAX_WORD = 20
MAX_WORDS = 8
# What each word finds is remembered per index; past this many documents found (~30 MB) the memory starts again.
_MAX_REMEMBERED = 300_000
# Answers kept per index (e.g. a results fragment as rendered, ~10 kB); any query string can be a key.
_MAX_MEMO = 1_000

T = TypeVar("T")


def synonyms_path() -> Path:
    """The synonym list: ``FUWU_SEARCH_SYNONYMS`` in settings, else ``standards/search/synonyms.yaml``."""
    configured = getattr(settings, "FUWU_SEARCH_SYNONYMS", None)
    return Path(configured) if configured else Path(settings.BASE_DIR) / "standards" / "search" / "synonyms.yaml"


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


# ---------------------------------------------------------------------------------------------------------
# The synonym list


@dataclass(frozen=True)
class Synonyms:
    means: dict[str, tuple[str, ...]] = field(default_factory=dict)  # everyday word → the standards' terms
    ignore: frozenset[str] = frozenset()

    @property
    def words(self) -> set[str]:
        return set(self.means) | {t for terms in self.means.values() for t in terms} | set(self.ignore)


class SynonymFileError(StandardFileError):
    """Problems in the synonym list, each with the file and line."""


_ENTRY_KEYS = {"say", "means", "note"}
_TOP_KEYS = {"synonyms", "ignore"}


def _words(value: Any, where: str, line: int | None, name: str, errors: list[FileError]) -> list[str]:
    """A non-empty list of plain words, normalised; each problem appended to ``errors``."""
    if not isinstance(value, list) or not value:
        errors.append(FileError(name, line, where, "must be a list of words, e.g. [洗澡, 洗浴]"))
        return []
    out = []
    for i, word in enumerate(value):
        if not isinstance(word, str) or not word.strip():
            errors.append(FileError(name, line, f"{where}[{i}]", f"{word!r} is not a word; write it as text"))
        elif len(word) > MAX_WORD or any(c.isspace() for c in word.strip()):
            errors.append(
                FileError(
                    name, line, f"{where}[{i}]", f"{word!r}: a word has no spaces and at most {MAX_WORD} characters"
                )
            )
        else:
            out.append(normalize(word.strip()))
    return out


def parse_synonyms(text: str, *, name: str) -> Synonyms:
    """Read and check a synonym list; raise SynonymFileError listing every problem as file:line."""
    try:
        data, lines = read_yaml_reporting(text, name=name)
    except StandardFileError as exc:
        raise SynonymFileError(exc.errors) from exc
    if not isinstance(data, dict):
        raise SynonymFileError([FileError(name, 1, "", "the file must be a mapping with `synonyms:` (and `ignore:`)")])
    errors: list[FileError] = []
    for key in data:
        if key not in _TOP_KEYS:
            errors.append(
                FileError(name, lines.get((key,)), key, f"unknown field; valid: {', '.join(sorted(_TOP_KEYS))}")
            )
    ignore = _words(data["ignore"], "ignore", lines.get(("ignore",)), name, errors) if "ignore" in data else []
    entries = data.get("synonyms")
    means: dict[str, tuple[str, ...]] = {}
    first_line: dict[str, int | None] = {}
    if not isinstance(entries, list) or not entries:
        errors.append(
            FileError(name, lines.get(("synonyms",), 1), "synonyms", "must be a list of entries with say: and means:")
        )
        entries = []
    for i, entry in enumerate(entries):
        where, line = f"synonyms[{i}]", lines.get(("synonyms", i))
        if not isinstance(entry, dict):
            errors.append(FileError(name, line, where, "an entry is a mapping: {say: [words], means: [terms]}"))
            continue
        for key in entry:
            if key not in _ENTRY_KEYS:
                errors.append(
                    FileError(
                        name,
                        lines.get(("synonyms", i, key), line),
                        f"{where}.{key}",
                        "unknown field; valid: say, means, note",
                    )
                )
        found: dict[str, list[str]] = {}
        for key in ("say", "means"):
            if key in entry:
                found[key] = _words(entry[key], f"{where}.{key}", lines.get(("synonyms", i, key), line), name, errors)
            else:
                errors.append(FileError(name, line, f"{where}.{key}", "required field is missing"))
        say, terms = found.get("say", []), found.get("means", [])
        for word in say:
            say_line = lines.get(("synonyms", i, "say"), line)
            if word in means:
                errors.append(
                    FileError(
                        name,
                        say_line,
                        f"{where}.say",
                        f"{word!r} is already listed on line {first_line[word]}; merge the two entries",
                    )
                )
                continue
            if word in ignore:
                errors.append(FileError(name, say_line, f"{where}.say", f"{word!r} is also in ignore; keep one"))
            first_line[word] = say_line
            means[word] = tuple(dict.fromkeys(t for t in terms if t != word))
    if errors:
        raise SynonymFileError(errors)
    return Synonyms(means=means, ignore=frozenset(ignore))


def load_synonyms(path: Path | None = None) -> Synonyms:
    path = path or synonyms_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Synonyms()  # searching still works, by the words alone
    except (OSError, UnicodeDecodeError) as exc:
        raise SynonymFileError([FileError(str(path), None, "", f"cannot read the file as UTF-8 text: {exc}")]) from exc
    return parse_synonyms(text, name=str(path))


@checks.register()
def synonyms_are_valid(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A bad synonym list stops the server at start-up with the file and line, not a search at run time."""
    path = synonyms_path()
    if not path.exists():
        return [checks.Warning(f"{path} does not exist: search finds only the words typed", id="standards.W101")]
    try:
        load_synonyms(path)
    except SynonymFileError as exc:
        return [checks.Error(str(e), id="standards.E101", hint="fix the entry; see docs/search.md") for e in exc.errors]
    return []


# ---------------------------------------------------------------------------------------------------------
# Words of a query

_CHINESE_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_AGE = re.compile(r"([0-9]{1,3}|[零〇一二两三四五六七八九十百]{1,5})(?:周岁|岁)(?:及?以上|多)?")
# Not "/" or "-": standards' numbers contain them (DB3310/T 80—2021).
_SPLIT = re.compile(r"[\s,，、。；;:：!！?？()（）\"'“”‘’]+")


def _chinese_number(text: str) -> int | None:
    """一百 → 100, 八十五 → 85, 六十 → 60; None for what is not a whole number of that form."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in _CHINESE_DIGITS:
            current = _CHINESE_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


@dataclass(frozen=True)
class Word:
    """One word of the query and what it may be found as."""

    text: str
    alternatives: tuple[str, ...]  # the word itself first, then the standards' terms for it
    age: int | None = None

    @property
    def synonyms(self) -> tuple[str, ...]:
        return self.alternatives[1:]


_tokenizer_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_dictionary: set[str] = set()


def _segment(text: str, extra_words: Iterable[str]) -> list[str]:
    """jieba's words for ``text``, with ``extra_words`` kept whole.

    One tokenizer per process (loading jieba's dictionary takes about a second); words are only ever added
    to it, and an item name from a standard no longer in force does no harm there.
    """
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            _tokenizer = jieba.Tokenizer()
        for word in set(extra_words) - _dictionary:
            _tokenizer.add_word(word)
            _dictionary.add(word)
        return [w for w in _tokenizer.cut(text) if w.strip()]


# ---------------------------------------------------------------------------------------------------------
# The index

Kind = Literal["item", "standard", "clause"]

# Where a word is found, and what that is worth. A name says what the thing is; the rest may only mention it.
_ITEM_FIELDS = (("name", 10.0), ("category", 4.0), ("target_group", 3.0), ("content", 2.0), ("standard", 1.5))
_STANDARD_FIELDS = (("title", 8.0), ("code", 8.0), ("summary", 2.0))
_CLAUSE_FIELDS = (("title", 3.0), ("text", 1.0))
_EXACT_NAME = 50.0  # the word is the whole name (最低生活保障), or the name less 服务 (助浴)
_AGE_MATCH = 5.0
_SYNONYM = 0.9  # a standard term for the word counts a little less than the word itself


@dataclass
class Doc:
    kind: Kind
    obj: Any
    fields: tuple[tuple[float, str], ...]  # (weight, normalised text)
    names: frozenset[str] = frozenset()  # normalised whole names, for exact matches
    age_weight: Callable[[int], float] | None = None


_AGES = range(121)


def _age_weight(item: ServiceItem) -> Callable[[int], float] | None:
    """How well a person's age fits the item's target group, judged on age alone; None if age does not limit it.

    A criterion that reads only the age and is false for that age excludes it; one that is true admits it
    (criteria needing a parameter or other facts are left out: unknown). An item open to every age is not
    "for" an age at all. Of the items admitting an age, those whose youngest admitted age is nearer it fit
    better: 90岁 finds the 80-and-over items before the 60-and-over ones.
    """
    rule = ((item.data or {}).get("target_group") or {}).get("rule") or {}
    fns = []
    for criterion in (rule.get("criteria") or {}).values():
        expr = criterion.get("expr", "")
        if "age" not in expr or "param(" in expr:
            continue
        try:
            expression = parse(expr, parameters={})
        except RuleError:
            continue
        if "age" in expression.facts:
            fns.append(compile_tree(expression.tree))
    if not fns:
        return None
    admitted = set()
    for age in _AGES:
        values = [fn({"age": age}) for fn in fns]
        if False not in values and True in values:
            admitted.add(age)
    if not admitted or len(admitted) == len(_AGES):
        return None
    youngest = min(admitted)

    def weight(age: int) -> float:
        return _AGE_MATCH * (0.5 + 0.5 * youngest / age) if age in admitted and age else 0.0

    return weight


class Index:
    """Everything searchable in the versions in force, normalised once; what each word finds, remembered."""

    def __init__(self, docs: list[Doc], synonyms: Synonyms, dictionary: set[str]) -> None:
        self.docs = docs
        self.synonyms = synonyms
        self.dictionary = dictionary
        self._found: dict[tuple[str, int | None], dict[int, float]] = {}
        self._found_size = 0
        self._memo: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key for this index; a bounded number of keys (then it starts again)."""
        if key in self._memo:
            return cast(T, self._memo[key])
        value = compute()
        with self._lock:
            if len(self._memo) >= _MAX_MEMO:
                self._memo.clear()
            self._memo[key] = value
        return value

    def found(self, alternative: str, age: int | None = None) -> dict[int, float]:
        """The documents containing ``alternative`` (or admitting ``age``): {document: the best field's weight}."""
        key = (alternative, age)
        hits = self._found.get(key)
        if hits is None:
            hits = {}
            for n, doc in enumerate(self.docs):
                weight = max((w for w, text in doc.fields if alternative and alternative in text), default=0.0)
                if age is not None and doc.age_weight is not None:
                    weight = max(weight, doc.age_weight(age))
                if weight:
                    hits[n] = weight + (_EXACT_NAME if alternative in doc.names else 0.0)
            with self._lock:
                if self._found_size > _MAX_REMEMBERED:
                    self._found.clear()
                    self._found_size = 0
                self._found[key] = hits
                self._found_size += len(hits) + 1
        return hits

    def words(self, query: str) -> list[Word]:
        """The query's words with their alternatives (see the module's docstring, step 2)."""
        out: list[Word] = []
        for part in _SPLIT.split(normalize(query)[:MAX_QUERY]):
            out += self._part_words(part)
        seen: dict[str, Word] = {}
        for w in out:
            seen.setdefault(w.text, w)
        return list(seen.values())[:MAX_WORDS]

    def word(self, text: str) -> Word:
        return Word(text, (text, *self.synonyms.means.get(text, ())))

    def _known(self, text: str) -> bool:
        return text in self.synonyms.means or bool(self.found(text))

    def _part_words(self, part: str) -> list[Word]:
        if not part or part in self.synonyms.ignore:
            return []
        age = _AGE.fullmatch(part)
        if age and (years := _chinese_number(age.group(1))) is not None:
            return [Word(part, (part, f"{years}周岁", f"{years}岁"), age=years)]
        if self._known(part):
            return [self.word(part)]
        out: list[Word] = []
        rest = part
        for match in _AGE.finditer(part):
            years = _chinese_number(match.group(1))
            if years is not None:
                out.append(Word(match.group(0), (match.group(0), f"{years}周岁", f"{years}岁"), age=years))
                rest = rest.replace(match.group(0), " ")
        for chunk in rest.split():
            if self._known(chunk):
                out.append(self.word(chunk))
                continue
            for piece in _segment(chunk, self.dictionary):
                if piece in self.synonyms.ignore:
                    continue
                out += [self.word(piece)] if self._known(piece) else self._inside(piece)
        return out

    def _inside(self, piece: str) -> list[Word]:
        """For a word that finds nothing, the everyday words of the synonym list inside it, longest first
        (洗头发 → 洗头); else the word itself, which finds nothing and so leads to suggestions."""
        out, rest = [], piece
        for key in sorted((k for k in self.synonyms.means if len(k) > 1 and k in piece), key=len, reverse=True):
            if key in rest:
                out.append(self.word(key))
                rest = rest.replace(key, " ")
        return out or [self.word(piece)]


# ---------------------------------------------------------------------------------------------------------
# Results


@dataclass
class SearchResults:
    """What a search found, items first; when nothing is found, ``suggestions`` offers words that find something."""

    query: str
    standards: list[StandardVersion]
    items: list[ServiceItem]
    clauses: list[Clause]
    # The words searched for and the standard terms each was also searched as, e.g. [("洗澡", ("助浴",))].
    understood: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.standards) + len(self.items) + len(self.clauses)

    @property
    def first(self) -> ServiceItem | StandardVersion | Clause | None:
        found: list[ServiceItem | StandardVersion | Clause] = [*self.items, *self.standards, *self.clauses]
        return found[0] if found else None


def _score(index: Index, words: list[Word], n: int) -> float | None:
    total = 0.0
    for word in words:
        best = 0.0
        for i, alternative in enumerate(word.alternatives):
            hit = index.found(alternative, word.age if i == 0 else None).get(n)
            if hit:
                best = max(best, hit * (1.0 if i == 0 else _SYNONYM))
        if not best:
            return None
        total += best
    return total


def _matches(index: Index, words: list[Word]) -> dict[int, float]:
    """Documents that contain every word (in one of its forms), with their scores."""
    if not words:
        return {}
    candidates: set[int] | None = None
    for word in words:
        found: set[int] = set()
        for i, alternative in enumerate(word.alternatives):
            found |= set(index.found(alternative, word.age if i == 0 else None))
        candidates = found if candidates is None else candidates & found
        if not candidates:
            return {}
    out: dict[int, float] = {}
    for n in candidates or ():
        score = _score(index, words, n)
        if score is not None:
            out[n] = score
    return out


def _suggestions(index: Index, words: list[Word], limit: int = 5) -> list[str]:
    """Close terms that do find something: item names found by some of the words, or sharing characters."""
    partial: dict[int, float] = {}
    for word in words:
        for n, score in _matches(index, [word]).items():
            if index.docs[n].kind == "item":
                partial[n] = partial.get(n, 0.0) + score
    names = [index.docs[n].obj.name for n in sorted(partial, key=lambda n: (-partial[n], n))]
    if len(names) < limit:
        # Then names and everyday words sharing two characters in a row with the query (洗头发 → 洗头).
        pairs = {w.text[i : i + 2] for w in words for i in range(len(w.text) - 1)}
        names += [d.obj.name for d in index.docs if d.kind == "item" and any(p in d.obj.name_zh for p in pairs)]
        names += [
            word
            for word in index.synonyms.means
            if any(p in word for p in pairs) and _matches(index, [index.word(word)])  # only words that find something
        ]
    return list(dict.fromkeys(name for name in names))[:limit]


def run(index: Index, *, query: str, limit: int = 50) -> SearchResults:
    words = index.words(query)
    if not words:
        return SearchResults(query, [], [], [])
    scores = _matches(index, words)
    by_kind: dict[str, list[Any]] = {"item": [], "standard": [], "clause": []}
    for n in sorted(scores, key=lambda n: (-scores[n], n)):
        by_kind[index.docs[n].kind].append(index.docs[n].obj)
    results = SearchResults(
        query,
        standards=by_kind["standard"][:limit],
        items=by_kind["item"][:limit],
        clauses=by_kind["clause"][:limit],
        understood=[(w.text, w.synonyms) for w in words if w.synonyms and w.age is None],
    )
    if not results.total:
        results.suggestions = _suggestions(index, words)
    return results


# ---------------------------------------------------------------------------------------------------------
# Building the index, once per set of standards in force


def _item_doc(item: ServiceItem) -> Doc:
    texts = {
        "name": f"{item.name_zh} {item.name_en}",
        "category": f"{item.category_zh} {item.category_en}",
        "target_group": f"{item.target_group_zh} {item.target_group_en}",
        "content": f"{item.content_zh} {item.content_en}",
        "standard": item.version.title_zh,
    }
    names = {normalize(n) for n in (item.name_zh, item.name_en) if n}
    names |= {n.removesuffix("服务") for n in names if n.endswith("服务") and len(n) > 3}
    return Doc(
        "item",
        item,
        tuple((w, normalize(texts[f])) for f, w in _ITEM_FIELDS),
        frozenset(names),
        _age_weight(item),
    )


def build_index(synonyms: Synonyms) -> Index:
    # The menu's order: national first within each life area, then the standard's own order (ties keep it).
    items = list(
        ServiceItem.objects.filter(version__status__in=IN_FORCE)
        .select_related("version", "version__standard")
        .defer("version__document")
        .order_by("life_area", "-version__scope", "version__code", "position")
    )
    versions = list(
        StandardVersion.objects.filter(status__in=IN_FORCE)
        .select_related("standard")
        .defer("document")
        .order_by("-scope", "code")
    )
    clauses = list(
        Clause.objects.filter(version__status__in=IN_FORCE)
        .select_related("version", "version__standard")
        .defer("version__document")
        .order_by("version__code", "position")
    )
    docs = [_item_doc(i) for i in items]
    for v in versions:
        texts = {"title": f"{v.title_zh} {v.title_en}", "code": v.code, "summary": f"{v.summary_zh} {v.summary_en}"}
        docs.append(Doc("standard", v, tuple((w, normalize(texts[f])) for f, w in _STANDARD_FIELDS)))
    for c in clauses:
        texts = {"title": f"{c.title_zh} {c.title_en}", "text": f"{c.text_zh} {c.text_en}"}
        docs.append(Doc("clause", c, tuple((w, normalize(texts[f])) for f, w in _CLAUSE_FIELDS)))
    dictionary = {normalize(w) for i in items for w in (i.name_zh, i.category_zh) if w and len(w) <= MAX_WORD}
    dictionary |= synonyms.words
    return Index(docs, synonyms, dictionary)


def in_force_key() -> tuple[tuple[int, str], ...]:
    """Which versions are in force, by id and content hash: read without their documents, in one small query."""
    # Plain SQL: it runs on every search, and building the ORM query costs more than running it.
    table = connection.ops.quote_name(StandardVersion._meta.db_table)
    marks = ", ".join(["%s"] * len(IN_FORCE))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, content_hash FROM {table} WHERE status IN ({marks}) ORDER BY id", list(IN_FORCE))  # noqa: S608 - no user input
        return tuple((int(pk), str(h)) for pk, h in cursor.fetchall())


_index_lock = threading.Lock()
_index: tuple[Any, Index] | None = None


def _synonyms_stamp() -> tuple[str, int, int]:
    path = synonyms_path()
    try:
        stat = path.stat()
    except OSError:
        return (str(path), 0, 0)
    return (str(path), stat.st_mtime_ns, stat.st_size)


def current_index() -> Index:
    """The index for the standards in force now and the synonym list as it is now; built when either changed."""
    global _index
    key = (in_force_key(), _synonyms_stamp())
    cached = _index
    if cached is not None and cached[0] == key:
        return cached[1]
    with _index_lock:
        if _index is not None and _index[0] == key:
            return _index[1]
        try:
            synonyms = load_synonyms()
        except SynonymFileError as exc:
            # The start-up check reports this; a search still answers, by the words alone.
            logger.error("search synonyms not used: %s", exc)
            synonyms = Synonyms()
        index = build_index(synonyms)
        _index = (key, index)
        return index


def search(*, query: str, limit: int = 50) -> SearchResults:
    """Search the standards, service items and clauses in force in residents' words (see the module docstring)."""
    query = query.strip()[:MAX_QUERY]
    if not query:
        return SearchResults(query, [], [], [])
    return run(current_index(), query=query, limit=limit)


def memo_for_standards_in_force(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per key while the standards in force and the synonym list stay as they are.

    For what depends on nothing else: the search page keeps its results fragment here, keyed by the query
    and the language, so a repeated search costs one small query (which versions are in force).
    """
    return current_index().memo(key, compute)

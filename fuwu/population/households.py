"""Hukou households: who lives with whom, of which sex, and roughly how old.

The ages drawn here are guesses from the household structure; ``assign_ages`` then replaces them by
an exact draw from the county's pyramid, keeping everyone's rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fuwu.population import parameters as P
from fuwu.population.areas import County
from fuwu.population.draws import Bools, Floats, Ints, ages_between, choice, pyramid_between

# Roles in the order members are listed within a household; the relation each maps to.
HEAD, SPOUSE, PARENT, GRANDPARENT, SIBLING, CHILD, CHILD_IN_LAW, GRANDCHILD = range(8)
ROLE_RELATION = ("head", "spouse", "parent", "grandparent", "sibling", "child", "other", "grandchild")


@dataclass
class Batch:
    """One batch's persons (member arrays) and households (``hh_*`` arrays), households contiguous."""

    hh: Ints
    role: Ints
    female: Bools
    age_guess: Floats
    surname: Ints
    hh_type: Ints
    hh_village: Ints
    hh_urban: Bools


def draw_households(rng: np.random.Generator, county: County, persons: int, surname_p: Floats) -> Batch:
    """Whole households adding up to ``persons`` members (the last one cut short), in member order."""
    base_cdf = county.age_cdf
    # Households average under three members; this many almost always suffices in one round.
    n = int(persons / 2.4) + 16
    while True:
        village = rng.choice(len(county.villages), size=n, p=county.village_weight)
        urban = rng.random(n) < county.village_urban[village]
        u = rng.random(n)
        cdf_rural = np.cumsum(P.HOUSEHOLD_TYPES_RURAL)
        cdf_urban = np.cumsum(P.HOUSEHOLD_TYPES_URBAN)
        kind = np.where(
            urban,
            np.searchsorted(cdf_urban / cdf_urban[-1], u, side="right"),
            np.searchsorted(cdf_rural / cdf_rural[-1], u, side="right"),
        ).astype(np.int64)
        kind = np.minimum(kind, len(P.HOUSEHOLD_TYPES_RURAL) - 1)
        is_ = {t: kind == t for t in range(9)}
        couple_types = is_[P.COUPLE] | is_[P.NUCLEAR] | is_[P.THREE_GEN] | is_[P.EXTENDED]
        spouse = (
            couple_types
            | (is_[P.SKIP_GEN] & (rng.random(n) < P.SPOUSE_PRESENT_SKIP_GEN))
            | (is_[P.STEM] & (rng.random(n) < P.SPOUSE_PRESENT_STEM))
        ).astype(np.int64)
        children = np.select(
            [is_[P.NUCLEAR], is_[P.SINGLE_PARENT], is_[P.THREE_GEN], is_[P.EXTENDED], is_[P.STEM]],
            [
                choice(rng, n, P.CHILDREN_NUCLEAR),
                choice(rng, n, P.CHILDREN_SINGLE_PARENT),
                choice(rng, n, P.CHILDREN_THREE_GEN),
                choice(rng, n, P.CHILDREN_EXTENDED),
                np.ones(n, dtype=np.int64),
            ],
            0,
        )
        parents = np.where(is_[P.THREE_GEN], choice(rng, n, P.PARENTS_THREE_GEN), 0)
        grandparent = (is_[P.THREE_GEN] & (rng.random(n) < P.GRANDPARENT_THREE_GEN)).astype(np.int64)
        sibling = is_[P.EXTENDED].astype(np.int64)
        in_law = (is_[P.STEM] & (rng.random(n) < P.CHILD_IN_LAW_STEM)).astype(np.int64)
        grandchildren = np.select(
            [is_[P.SKIP_GEN], is_[P.STEM] & (in_law == 1)],
            [choice(rng, n, P.GRANDCHILDREN_SKIP_GEN), choice(rng, n, P.GRANDCHILDREN_STEM)],
            0,
        )
        counts = np.stack(
            [np.ones(n, dtype=np.int64), spouse, parents, grandparent, sibling, children, in_law, grandchildren],
            axis=1,
        )
        sizes = counts.sum(axis=1)
        if sizes.sum() >= persons:
            break
        n = n * 2

    # Keep the households that reach ``persons``; the last one is cut short below.
    keep = int(np.searchsorted(np.cumsum(sizes), persons)) + 1
    kind, village, urban, counts, spouse = kind[:keep], village[:keep], urban[:keep], counts[:keep], spouse[:keep]
    is_ = {t: kind == t for t in range(9)}
    n = keep

    # Household-level ages and sexes, as guesses that assign_ages will map onto the pyramid.
    head_age = np.zeros(n)
    for t, (low, high) in P.HEAD_AGE.items():
        idx = np.flatnonzero(is_[t])
        if t == P.COUPLE:
            young = rng.random(len(idx)) < P.YOUNG_COUPLE_SHARE
            head_age[idx] = np.where(
                young,
                ages_between(rng, len(idx), low, 36, base_cdf),
                ages_between(rng, len(idx), 50, high, base_cdf),
            )
        else:
            tilt = 1.0 if t in (P.SOLO_ELDER, P.STEM) else 0.0  # widowhood and co-residence rise with age
            head_age[idx] = ages_between(rng, len(idx), low, high, base_cdf, tilt)
    has_spouse = spouse == 1
    p_female = np.select(
        [
            is_[P.SOLO_ELDER],
            is_[P.SOLO_ADULT],
            is_[P.SINGLE_PARENT],
            has_spouse,
        ],
        [P.FEMALE_SOLO_ELDER, P.FEMALE_SOLO_ADULT, P.FEMALE_SINGLE_PARENT, 1 - P.MALE_HEAD_IN_COUPLE],
        P.FEMALE_SOLO_ELDER,  # widowed heads of skip-generation and stem households
    )
    head_female = rng.random(n) < p_female
    spouse_age = np.maximum(head_age + np.where(head_female, 1, -1) * rng.normal(2.5, 3.0, n), 20.0)
    mother_age = np.where(head_female, head_age, np.where(has_spouse, spouse_age, head_age - 2))
    # Stem households: the head's married child (a son, mostly) with in-law and grandchildren.
    stem_child_age = pyramid_between(rng, np.maximum(head_age - 40, 20.0), np.maximum(head_age - 22, 20.5), base_cdf)
    stem_child_male = rng.random(n) < P.STEM_CHILD_SON
    in_law_age = np.maximum(stem_child_age + np.where(stem_child_male, -2, 2) + rng.normal(0, 2, n), 20.0)
    young_parent_age = np.where(counts[:, CHILD_IN_LAW] == 1, np.minimum(stem_child_age, in_law_age), stem_child_age)

    n_surnames = len(surname_p)
    head_surname = rng.choice(n_surnames, size=n, p=surname_p)
    spouse_surname = rng.choice(n_surnames, size=n, p=surname_p)
    in_law_surname = rng.choice(n_surnames, size=n, p=surname_p)
    father_surname = np.where(head_female & has_spouse, spouse_surname, head_surname)

    # Members: one row per (household, role, k), already in household-then-role order.
    flat = counts.ravel()
    pair = np.repeat(np.arange(n * 8), flat)
    hh = pair // 8
    role = pair % 8
    hh, role = hh[:persons], role[:persons]
    m = len(hh)
    k = np.arange(m) - np.repeat(np.cumsum(flat) - flat, flat)[:persons]
    female = np.zeros(m, dtype=np.bool_)
    age = np.zeros(m)
    surname = head_surname[hh].copy()

    def set_role(r: int, sex: Bools, ages: Floats, surnames: Ints | None = None) -> None:
        # Every argument is one value per member; only the members in role ``r`` take theirs.
        mask = role == r
        female[mask] = sex[mask]
        age[mask] = ages[mask]
        if surnames is not None:
            surname[mask] = surnames[mask]

    random_surname = rng.choice(n_surnames, size=m, p=surname_p)
    h_kind = kind[hh]
    set_role(HEAD, head_female[hh], head_age[hh])
    set_role(SPOUSE, ~head_female[hh], spouse_age[hh], spouse_surname[hh])
    # Two parents: father then mother; one: a widowed mother, mostly.
    parent_female = np.where(counts[hh, PARENT] == 2, k == 1, rng.random(m) < P.FEMALE_LONE_PARENT)
    head_m = head_age[hh]
    set_role(
        PARENT,
        parent_female,
        pyramid_between(rng, head_m + 20, head_m + 40, base_cdf),
        np.where(parent_female, random_surname, surname),
    )
    gp_female = rng.random(m) < P.FEMALE_GRANDPARENT
    set_role(
        GRANDPARENT,
        gp_female,
        pyramid_between(rng, head_m + 42, head_m + 65, base_cdf),
        np.where(gp_female, random_surname, surname),
    )
    set_role(
        SIBLING,
        rng.random(m) < P.FEMALE_SIBLING,
        pyramid_between(rng, np.maximum(head_m - 8, 16.0), head_m + 8, base_cdf),
    )
    # Born when the mother was 20–45 and both parents were at least 20.
    youngest_parent = np.where(has_spouse, np.minimum(head_age, spouse_age), head_age)[hh]
    child_age = np.where(
        h_kind == P.STEM,
        stem_child_age[hh],
        pyramid_between(rng, np.maximum(mother_age[hh] - 45, 0.0), np.maximum(youngest_parent - 20, 0.3), base_cdf),
    )
    child_female = np.where(h_kind == P.STEM, ~stem_child_male[hh], rng.random(m) >= P.MALE_BIRTH_SHARE)
    set_role(CHILD, child_female, child_age, father_surname[hh])
    set_role(CHILD_IN_LAW, stem_child_male[hh], in_law_age[hh], in_law_surname[hh])
    grandchild_age = np.where(
        h_kind == P.SKIP_GEN,
        pyramid_between(rng, np.maximum(head_m - 75, 0.0), np.clip(head_m - 40, 0.3, 16.0), base_cdf),
        pyramid_between(rng, np.zeros(m), np.maximum(young_parent_age[hh] - 20, 0.3), base_cdf),
    )
    stem_line = np.where(stem_child_male, father_surname, in_law_surname)
    grandchild_surname = np.where(
        rng.random(m) < P.GRANDCHILD_FAMILY_SURNAME,
        np.where(h_kind == P.STEM, stem_line[hh], father_surname[hh]),
        random_surname,
    )
    set_role(GRANDCHILD, rng.random(m) >= P.MALE_BIRTH_SHARE, grandchild_age, grandchild_surname)

    return Batch(
        hh=hh.astype(np.int64),
        role=role.astype(np.int64),
        female=female,
        age_guess=np.clip(age, 0.0, P.MAX_AGE + 0.999),
        surname=surname.astype(np.int64),
        hh_type=kind,
        hh_village=village.astype(np.int64),
        hh_urban=urban,
    )


def assign_ages(rng: np.random.Generator, guess: Floats, cdf: Floats) -> Floats:
    """Replace the guessed ages by an exact draw from the pyramid, keeping everyone's rank.

    The household model alone cannot hit the census age structure; this keeps its shape (a head is
    older than the children, a parent older than the head) and makes the batch's ages a sample of the
    county's pyramid.
    """
    n = len(guess)
    years = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), P.MAX_AGE)
    drawn = np.sort(years + rng.random(n))
    ages = np.empty(n)
    ages[np.argsort(guess, kind="stable")] = drawn
    return ages

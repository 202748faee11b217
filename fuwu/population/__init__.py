"""A synthetic resident population of Taizhou, written as Parquet for the bulk eligibility engines.

Not a Django app with models: the population lives in files, not in the database. ``generate`` holds
the contract and writes the file; ``parameters`` the numbers it is calibrated on (their sources are
in ``docs/population.md``); ``areas``, ``households``, ``draws`` and ``columns`` do the work.
"""


class PopulationError(ValueError):
    """Why the population cannot be generated, in words the person at the command line can act on."""

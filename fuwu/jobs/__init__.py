"""Background work on a queue, as the people who asked for it see it.

See ``docs/decisions/0009-background-jobs-on-django-tasks.md`` for why and how; in short:

* a **kind** of job is a function registered with ``@kinds.register`` in an app's ``tasks.py``;
* ``services.job_start`` records a ``Job`` and puts it on django-tasks' database queue;
* ``fuwu worker`` runs the queue (django-tasks-db's worker) and, beside it, the scheduler and the
  watchdog that retries or reports jobs whose worker died;
* ``/jobs/<id>/`` shows the job's progress (htmx polling) and then its result.
"""

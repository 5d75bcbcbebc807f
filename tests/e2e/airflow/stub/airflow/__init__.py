"""The few pieces of Airflow the example DAG uses, enough to import it and run its task
without Airflow installed (tests only)."""

_current = []


class DAG:
    def __init__(self, dag_id, schedule=None, **kwargs):
        self.dag_id = dag_id
        self.schedule = schedule
        self.kwargs = kwargs
        self.tasks = []

    def __enter__(self):
        _current.append(self)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False

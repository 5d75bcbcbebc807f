class AirflowException(Exception):
    """A task failure; Airflow retries it while retries are left."""


class AirflowFailException(AirflowException):
    """A task failure Airflow never retries."""

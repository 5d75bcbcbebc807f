"""The Pinterest pipeline as a daily Airflow (MWAA) job, the seeds' batch habit.

Once a day (`0 0 * * *`) the task runs `pinstream run --available-now`: it processes what
the sources hold when it starts, checkpoints and exits, even while producers keep writing.
Its `--summary` JSON (read, clean, dead letters per stream, table versions, checkpoint) is
pushed to XCom as the task's return value.

Retries only help a runtime failure (exit 1: a broker or bucket unreachable...). Exit 2 (the
configuration or the command line is wrong) and 3 (the state and the tables disagree: an
operator must repair, the log names the `pinstream replay` command) fail the task at once:
Airflow has no per-exit-code retry setting, so PinstreamOperator reads the exit status from
the summary and raises AirflowFailException, which Airflow never retries.

Settings come from the environment of the workers (or Airflow Variables, if you prefer):
PINSTREAM_BIN, PINSTREAM_CONFIG, PINSTREAM_SUMMARY_DIR, and the pipeline's own PINSTREAM_*.
"""
import json
import os
import shlex
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.operators.bash import BashOperator

PINSTREAM = os.environ.get("PINSTREAM_BIN", "/usr/local/bin/pinstream")
CONFIG = os.environ.get("PINSTREAM_CONFIG", "/etc/pinstream/pipeline.yaml")
SUMMARY_DIR = os.environ.get("PINSTREAM_SUMMARY_DIR", "/tmp")

# Exit codes of `pinstream run` (README, "Exit codes").
EXIT_RUNTIME = 1  # retrying may help
EXIT_CONFIG = 2  # retrying will not help: fix the configuration or the command line
EXIT_REFUSED = 3  # state and tables disagree: operator action needed


def pinstream_command(pinstream=PINSTREAM, config=CONFIG):
    """The task's shell command. The summary path comes from $PINSTREAM_SUMMARY (set per
    run by PinstreamOperator). The summary is printed last on one line (JSON allows the
    pretty-printed newlines to go) so that BashOperator pushes it to XCom; the exit code
    is pinstream's."""
    run = " ".join(shlex.quote(a) for a in
                   [pinstream, "run", "--config", config, "--available-now"])
    return (run + ' --summary "$PINSTREAM_SUMMARY"; rc=$?; '
            'if [ -f "$PINSTREAM_SUMMARY" ]; then tr -d "\\n" < "$PINSTREAM_SUMMARY"; echo; fi; '
            'exit $rc')


def retry_allowed(exit_status):
    """Only a runtime failure (or a run that could not even write its summary) is retried."""
    return exit_status not in (EXIT_CONFIG, EXIT_REFUSED)


class PinstreamOperator(BashOperator):
    """BashOperator that fails without retries when pinstream says retrying cannot help."""

    def execute(self, context):
        summary = os.path.join(SUMMARY_DIR,
                               "pinstream-summary-%s.json" % context.get("run_id", "manual"))
        self.env = dict(self.env or os.environ, PINSTREAM_SUMMARY=summary)
        try:
            return super().execute(context)
        except AirflowException:
            status = None
            try:
                with open(summary) as f:
                    status = json.load(f).get("exit_status")
            except (OSError, ValueError):
                pass  # no summary: pinstream could not start; treated as retryable
            if not retry_allowed(status):
                raise AirflowFailException(
                    "pinstream exited %s: retrying will not help (see the task log)" % status)
            raise


with DAG(
    dag_id="pinterest_daily",
    schedule="0 0 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,  # one process owns the data directory at a time
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["pinstream"],
) as dag:
    run_pipeline = PinstreamOperator(
        task_id="pinstream_available_now",
        bash_command=pinstream_command(),
        do_xcom_push=True,
    )

"""Imports examples/airflow/pinterest_daily.py with the Airflow stub, checks the DAG, runs
its task against the real pinstream and checks the retry policy. Prints OK on success.
Usage: check_dag.py DAG_FILE '{"pin": reads, ...}' (PINSTREAM_* set by the caller)."""
import importlib.util
import json
import sys

from airflow.exceptions import AirflowException, AirflowFailException


def load(path):
    spec = importlib.util.spec_from_file_location("pinterest_daily", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    dag_file, expected_reads = sys.argv[1], json.loads(sys.argv[2])
    m = load(dag_file)
    assert m.dag.dag_id == "pinterest_daily", m.dag.dag_id
    assert m.dag.schedule == "0 0 * * *", m.dag.schedule
    assert m.dag.kwargs["default_args"]["retries"] >= 1
    (task,) = m.dag.tasks
    assert "--available-now" in task.bash_command and "--summary" in task.bash_command
    print("command:", task.bash_command)

    summary = json.loads(task.execute({"run_id": "check1"}))
    assert summary["exit_status"] == 0, summary
    assert summary["mode"] == "available-now", summary
    for stream, reads in expected_reads.items():
        assert summary["streams"][stream]["read"] == reads, summary["streams"]

    bad = m.PinstreamOperator(task_id="bad_config",
                              bash_command=m.pinstream_command(config="/nonexistent.yaml"))
    try:
        bad.execute({"run_id": "check2"})
        raise AssertionError("a missing configuration did not fail the task")
    except AirflowFailException:
        pass  # exit 2: never retried

    flaky = m.PinstreamOperator(task_id="runtime_failure",
                                bash_command=m.pinstream_command(pinstream="/bin/false"))
    try:
        flaky.execute({"run_id": "check3"})
        raise AssertionError("a failing command did not fail the task")
    except AirflowFailException:
        raise AssertionError("a runtime failure (exit 1) must stay retryable")
    except AirflowException:
        pass
    assert m.retry_allowed(1) and not m.retry_allowed(2) and not m.retry_allowed(3)
    print("OK")


if __name__ == "__main__":
    main()

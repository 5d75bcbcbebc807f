import subprocess

import airflow
from airflow.exceptions import AirflowException


class BashOperator:
    """Runs bash_command with bash; a non-zero exit raises AirflowException; the last line
    of stdout is the return value (what Airflow pushes to XCom)."""

    def __init__(self, task_id, bash_command, env=None, do_xcom_push=True, **kwargs):
        self.task_id = task_id
        self.bash_command = bash_command
        self.env = env
        self.do_xcom_push = do_xcom_push
        self.kwargs = kwargs
        if airflow._current:
            self.dag = airflow._current[-1]
            self.dag.tasks.append(self)

    def execute(self, context):
        done = subprocess.run(["bash", "-c", self.bash_command], env=self.env,
                              stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise AirflowException("Bash command failed. The command returned a non-zero "
                                   "exit code %d." % done.returncode)
        lines = done.stdout.strip().splitlines()
        return lines[-1] if lines and self.do_xcom_push else None

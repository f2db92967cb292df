"""Background import and export jobs, run by ``manage.py job_worker`` (django-tasks)."""

import logging

from django.utils.translation import gettext as _
from django_tasks import task

from .models import ImportJob, JobState
from .workers import claim_job

logger = logging.getLogger(__name__)


def _run(job_id, expected, action):

    job = ImportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.state not in expected:
        return  # cancelled or already done: nothing to do
    claim_job(job)  # so that the job is marked failed if this process dies
    with job.in_its_language():
        try:
            action(job)
        except Exception:
            logger.exception("import job %s failed", job_id)
            ImportJob.objects.filter(pk=job_id).update(
                state=JobState.FAILED,
                progress=100,
                failure=_("后台任务发生内部错误，没有写入任何数据。请联系系统管理员。"),
            )
            raise


#: The queues (``settings.TASK_QUEUES``): an import never waits behind a large export
#: on a worker of its own.
IMPORTS = "imports"
EXPORTS = "exports"


@task(queue_name=IMPORTS)
def check_import(job_id):
    from .services import job_check

    _run(job_id, (JobState.QUEUED,), job_check)


@task(queue_name=IMPORTS)
def commit_import(job_id):
    from .services import job_commit

    _run(job_id, (JobState.COMMIT_QUEUED,), job_commit)


@task(queue_name=EXPORTS)
def run_export(job_id):
    """Make a large export's file (``exports``)."""
    from .exports import run
    from .models import ExportJob

    job = ExportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is not None:
        run(job)

"""The import log: one ``ImportJob`` per uploaded file, from upload to commit."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class JobState(models.TextChoices):
    QUEUED = "queued", _("排队检查中")
    VALIDATING = "validating", _("正在检查")
    READY = "ready", _("检查通过，待确认")
    INVALID = "invalid", _("有错误，未导入")
    COMMIT_QUEUED = "commit_queued", _("排队导入中")
    COMMITTING = "committing", _("正在导入")
    COMMITTED = "committed", _("已导入")
    FAILED = "failed", _("失败，未导入")
    CANCELLED = "cancelled", _("已取消")


RUNNING_STATES = (
    JobState.QUEUED,
    JobState.VALIDATING,
    JobState.COMMIT_QUEUED,
    JobState.COMMITTING,
)


class WorkerJob(models.Model):
    """What an import job and an export job share: the language of the pages it was
    asked from (the worker writes its messages in it), and the worker process running
    it (when it is gone, ``workers.job_worker_gone``, the job is marked failed)."""

    #: Blank for jobs from before it was kept: the site's default language.
    language = models.CharField(_("界面语言"), max_length=16, blank=True)
    worker_host = models.CharField(_("后台进程主机"), max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(_("后台进程号"), null=True, blank=True)

    class Meta:
        abstract = True

    def in_its_language(self):
        """The job's messages are written in its user's language inside this block."""
        return translation.override(self.language or settings.LANGUAGE_CODE)


class ImportJob(WorkerJob):
    """An uploaded spreadsheet: its check (dry run), and its commit.

    The counts and errors are those of the last check; a commit re-checks the
    file inside its transaction and writes only if the outcome is exactly the
    one previewed (``plan_digest``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("文件类型"), max_length=20)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件SHA-256"), max_length=64)
    file_size = models.PositiveBigIntegerField(_("文件大小（字节）"))
    file_format = models.CharField(_("文件格式"), max_length=8)
    encoding = models.CharField(_("文本编码"), max_length=16, blank=True)
    background = models.BooleanField(_("后台运行"), default=False)
    #: The workbook's sheets to read together, by name, as the user chose them on the
    #: preview of an earlier check of the same file; empty: the first data sheet alone.
    sheets = models.JSONField(_("导入的工作表"), default=list, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=JobState.choices, default=JobState.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    phase = models.CharField(_("当前步骤"), max_length=100, blank=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    new_rows = models.PositiveIntegerField(_("新增行数"), default=0)
    updated_rows = models.PositiveIntegerField(_("更新行数"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("无变化行数"), default=0)
    error_rows = models.PositiveIntegerField(_("错误行数"), default=0)
    #: [[row number, column header, message], …] in file order.
    errors = models.JSONField(_("错误清单"), default=list, blank=True)
    #: {"new": {model label: n}, "updated": {...}} of the last check.
    changes = models.JSONField(_("变更汇总"), default=dict, blank=True)
    plan_digest = models.CharField(_("预览摘要"), max_length=64, blank=True)
    failure = models.TextField(_("失败原因"), blank=True)
    checked_at = models.DateTimeField(_("检查完成时间"), null=True, blank=True)
    committed_at = models.DateTimeField(_("导入完成时间"), null=True, blank=True)
    seconds = models.FloatField(_("耗时（秒）"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = pgettext_lazy("plural", "导入记录")
        ordering = ["-created_at"]
        indexes = [
            # The import page lists the user's own recent jobs.
            models.Index(fields=["user", "-created_at"], name="importjob_user_recent"),
        ]

    def __str__(self):
        return f"{self.file_name}（{self.created_at:%Y-%m-%d %H:%M}）"

    @property
    def running(self):
        return self.state in RUNNING_STATES

    @property
    def history_reason(self):
        return f"导入：{self.file_name}"


class ImportUpload(models.Model):
    """The uploaded bytes, kept in the database so that any worker can read them.

    Deleted once the file is committed or cancelled: the log keeps the name and
    hash, not a second copy of people's personal data.
    """

    job = models.OneToOneField(
        ImportJob, verbose_name=_("导入记录"), on_delete=models.CASCADE, related_name="upload"
    )
    content = models.BinaryField(_("文件内容"), help_text=_("zlib 压缩后的上传文件。"))
    #: The check's parsed cells (``engine.pack_rows``), so that a commit
    #: re-plans against the database without parsing the file a second time.
    #: Only where no plan is kept (SQLite); a kept plan that no longer holds
    #: is planned again from the file.
    parsed = models.BinaryField(_("解析结果"), null=True, blank=True)
    #: PostgreSQL: the checked plan itself, what it read and where the change
    #: history stood (``engine.pack_kept``), so that a commit writes it without
    #: planning again when nothing it relied on has changed since.
    kept = models.BinaryField(_("预览结果"), null=True, blank=True)

    class Meta:
        verbose_name = _("上传文件")
        verbose_name_plural = pgettext_lazy("plural", "上传文件")

    def __str__(self):
        return str(self.job)


class WorkerHeartbeat(models.Model):
    """One row per running job worker (``manage.py job_worker``), stamped every few seconds.

    The import page reads it to tell administrators whether large imports can
    run at all; a row whose process is gone shows when the worker was last seen.
    """

    worker_id = models.CharField(_("进程标识"), max_length=64, unique=True)
    host = models.CharField(_("主机"), max_length=255)
    pid = models.PositiveIntegerField(_("进程号"))
    started_at = models.DateTimeField(_("启动时间"))
    seen_at = models.DateTimeField(_("最近心跳"))

    class Meta:
        verbose_name = _("后台任务进程")
        verbose_name_plural = pgettext_lazy("plural", "后台任务进程")
        ordering = ["-seen_at"]

    def __str__(self):
        return f"{self.host}:{self.pid}"


class ExportState(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("正在生成")
    DONE = "done", _("已完成，可下载")
    FAILED = "failed", _("失败")
    EXPIRED = "expired", _("已过期删除")


class ExportSource(models.TextChoices):
    ADMIN = "admin", _("列表导出")
    KIND = "kind", _("表格导出")


class ExportJob(WorkerJob):
    """A large export made by the job worker instead of inside the request.

    An admin list's 导出 or the import page's export of a whole kind, when it has
    more than ``EXPORT_INLINE_MAX_ROWS`` rows.  The worker repeats the request the
    user made (the list's address and the form they submitted), as them: the same
    scope, filters, masking and read audit as an export made in the request.  The
    file is kept for its user alone (``ExportFile``) for ``EXPORT_KEEP_HOURS``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导出人"),
        on_delete=models.PROTECT,
        related_name="export_jobs",
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    source = models.CharField(_("来源"), max_length=8, choices=ExportSource.choices)
    #: The admin list's model (``app_label.model_name``) or the import kind's key.
    target = models.CharField(_("导出对象"), max_length=100)
    #: What to repeat: ``{"query": <the list's query string>, "post": {name: [values]}}``
    #: for a list; ``{}`` for a kind.
    params = models.JSONField(_("导出条件"), default=dict, blank=True)
    #: The address the export was asked at (the read audit records it).
    path = models.CharField(_("页面地址"), max_length=500, blank=True)
    name = models.CharField(_("导出内容"), max_length=255)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_format = models.CharField(_("文件格式"), max_length=8)
    state = models.CharField(
        _("状态"), max_length=16, choices=ExportState.choices, default=ExportState.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已生成行数"), default=0)
    file_size = models.PositiveBigIntegerField(_("文件大小（字节）"), null=True, blank=True)
    failure = models.TextField(_("失败原因"), blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    seconds = models.FloatField(_("耗时（秒）"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出记录")
        verbose_name_plural = pgettext_lazy("plural", "导出记录")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="exportjob_user_recent")]

    def __str__(self):
        return f"{self.file_name}（{self.created_at:%Y-%m-%d %H:%M}）"

    @property
    def running(self):
        return self.state in (ExportState.QUEUED, ExportState.RUNNING)


class ExportFile(models.Model):
    """A finished export's bytes, for its user to download until it expires."""

    job = models.OneToOneField(
        ExportJob, verbose_name=_("导出记录"), on_delete=models.CASCADE, related_name="file"
    )
    content = models.BinaryField(_("文件内容"))
    #: As the export made in the request would have sent it.
    content_type = models.CharField(_("文件类型"), max_length=100)

    class Meta:
        verbose_name = _("导出文件")
        verbose_name_plural = pgettext_lazy("plural", "导出文件")

    def __str__(self):
        return str(self.job)

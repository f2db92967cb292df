"""The OpenAPI document lists the error answers every endpoint can give (drf-spectacular hook)."""

from django.utils.translation import gettext_lazy as _

ERROR_SCHEMA = {
    "type": "object",
    "description": '{"detail": "…"}，或参数错误时 {"参数名": ["…"]}',
    "additionalProperties": True,
}
ERRORS = {
    "400": _("参数错误（例如区域代码或时间格式不正确）"),
    "401": _("没有密钥，或密钥无效、已停用、已过期"),
    "403": _("账号没有管辖区域或没有查看这类数据的权限"),
    "404": _("不存在或不在账号的管辖范围内"),
    "429": _("请求过于频繁，请稍后再试"),
}


def add_error_responses(result, generator, request, public):
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, text in ERRORS.items():
                if code == "400" and not any(
                    p.get("in") == "query" for p in operation.get("parameters", [])
                ):
                    continue
                responses.setdefault(
                    code,
                    {
                        "description": str(text),
                        "content": {"application/json": {"schema": ERROR_SCHEMA}},
                    },
                )
    return result

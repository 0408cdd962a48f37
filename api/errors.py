"""Errors as HTTP answers: the one place that maps the error tree to statuses.

Every answer carries the stable code, the English message (what is wrong and what to do,
naming the file or record) and a Chinese one for the people using the service.
"""

from __future__ import annotations

from typing import Any

from intake import errors as e

HTTP_STATUS: dict[type[e.IntakeError], int] = {
    e.IntakeError: 500,
    e.InputError: 400,
    e.NotFoundError: 404,
    e.AuthenticationError: 401,
    e.PermissionDeniedError: 403,
    e.RateLimitedError: 429,
    e.UnsupportedFileError: 415,
    e.ActiveContentError: 415,
    e.NotPrintoutError: 422,
    e.UnsafeArchiveError: 400,
    e.CorruptFileError: 422,
    e.EncryptedFileError: 422,
    e.FileTooLargeError: 413,
    e.RecordError: 422,
    e.ToolError: 500,
    e.ToolMissingError: 503,
    e.ToolTimeoutError: 504,
    e.StorageError: 503,
    e.ObjectNotFoundError: 404,
    e.StorageAuthError: 503,
    e.StorageUnavailableError: 503,
    e.StorageIntegrityError: 500,
    e.StorageUnsupportedError: 501,
    e.ObjectKeyError: 400,
    e.DatabaseError: 503,
}

MESSAGE_ZH: dict[str, str] = {
    "intake_error": "处理失败",
    "bad_input": "输入有误，请检查后重试",
    "not_found": "未找到，或您无权查看",
    "not_authenticated": "请先登录（用户名或密码错误，或登录已过期）",
    "forbidden": "您的角色无权执行此操作",
    "rate_limited": "尝试次数过多，请稍后再试",
    "unsupported_file": "文件类型不受支持，请上传 PDF、TIFF、JPEG 或 PNG 扫描件",
    "active_content": "PDF 含有脚本或嵌入文件，请重新打印为普通 PDF（或重新扫描）后上传",
    "not_online_printout": "网上系统打印版应为从网上系统导出的 PDF（带文字层），不能是扫描件或图片",
    "unsafe_archive": "压缩包内含指向包外的路径或链接，已整体拒收，请重新打包后上传",
    "corrupt_file": "文件已损坏，无法读取，请重新扫描或导出后上传",
    "encrypted_file": "文件已加密，请上传未加密的扫描件",
    "file_too_large": "文件超出大小、页数或像素限制",
    "bad_record": "网上申报记录缺失或格式不符",
    "tool_failed": "识别工具运行失败，请联系管理员",
    "tool_missing": "识别工具未安装，请联系管理员",
    "tool_timeout": "识别超时，请联系管理员",
    "storage_error": "文件存储失败，请稍后重试",
    "object_not_found": "存储中找不到该文件",
    "storage_auth": "文件存储拒绝访问，请联系管理员",
    "storage_unavailable": "文件存储暂不可用，请稍后重试",
    "storage_integrity": "存储的文件与其校验值不符，请联系管理员",
    "storage_unsupported": "当前存储方式不支持此操作",
    "bad_object_key": "文件名不可用",
    "database_error": "数据库暂不可用，请稍后重试",
    "internal_error": "服务内部错误，请联系管理员",
}


def http_status(error: e.IntakeError) -> int:
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def error_body(error: e.IntakeError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": str(error),
                      "message_zh": MESSAGE_ZH.get(error.code, MESSAGE_ZH["intake_error"]),
                      "subject": error.subject}}

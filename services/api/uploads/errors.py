from __future__ import annotations

from services.common.problems import DomainError

# An upload refused mid-request closes its connection: otherwise the client goes on streaming a
# body nobody will read (measured: a resume racing the dead request's lock re-sent 130 MB).
TUS_HEADERS = {"Tus-Resumable": "1.0.0", "Connection": "close"}


class UploadError(DomainError):
    def __init__(self, **params: object) -> None:
        super().__init__(headers=dict(TUS_HEADERS), **params)


class UploadNotFound(UploadError):
    status = 404
    code = "upload.not_found"
    title = {"zh-CN": "上传不存在", "en": "Upload not found"}


class UploadGone(UploadError):
    status = 410
    code = "upload.gone"
    title = {"zh-CN": "上传已结束", "en": "Upload no longer accepts bytes"}
    detail = {"zh-CN": "该上传已过期、被取消或未通过检查", "en": "The upload expired, was terminated, or failed its checks"}


class UnsupportedTusVersion(UploadError):
    status = 412
    code = "upload.unsupported_tus_version"
    title = {"zh-CN": "不支持的 tus 协议版本", "en": "Unsupported tus version"}
    detail = {"zh-CN": "请使用 Tus-Resumable: 1.0.0", "en": "Send Tus-Resumable: 1.0.0"}

    def __init__(self) -> None:
        super().__init__()
        self.headers["Tus-Version"] = "1.0.0"


class BadUploadRequest(UploadError):
    status = 400
    code = "upload.bad_request"
    title = {"zh-CN": "上传请求无效", "en": "Invalid upload request"}
    detail = {"zh-CN": "{reason}", "en": "{reason}"}


class OffsetMismatch(UploadError):
    status = 409
    code = "upload.offset_mismatch"
    title = {"zh-CN": "上传偏移量不一致", "en": "Upload-Offset does not match"}
    detail = {"zh-CN": "服务器已收到 {offset} 字节，请从该位置继续", "en": "The server has {offset} bytes; resume from there"}


class UploadRewound(UploadError):
    status = 409
    code = "upload.rewound"
    title = {"zh-CN": "请从较早的位置继续上传", "en": "Resume the upload from an earlier offset"}
    detail = {"zh-CN": "服务器丢失了最后一个已存储分片之后收到的数据，请从第 {offset} 字节继续",
              "en": "The server lost the bytes it received after its last stored part; resume from byte {offset}"}


class UploadLocked(UploadError):
    status = 423
    code = "upload.locked"
    title = {"zh-CN": "该上传正在写入", "en": "Upload is busy"}
    detail = {"zh-CN": "另一个请求正在向该上传写入数据，请稍后重试",
              "en": "Another request is writing to this upload; retry shortly"}


class WrongContentType(UploadError):
    status = 415
    code = "upload.wrong_content_type"
    title = {"zh-CN": "请求体类型错误", "en": "Wrong Content-Type"}
    detail = {"zh-CN": "PATCH 请求体必须是 application/offset+octet-stream",
              "en": "PATCH bodies must be application/offset+octet-stream"}


class ChecksumMismatch(UploadError):
    status = 460
    code = "upload.checksum_mismatch"
    title = {"zh-CN": "校验和不匹配", "en": "Checksum mismatch"}
    detail = {"zh-CN": "本次数据块的校验和与 Upload-Checksum 不符，数据已丢弃，请重新发送",
              "en": "The chunk does not match its Upload-Checksum; it was discarded, send it again"}


class UnsupportedChecksum(UploadError):
    status = 400
    code = "upload.unsupported_checksum"
    title = {"zh-CN": "不支持的校验算法", "en": "Unsupported checksum algorithm"}
    detail = {"zh-CN": "支持的算法：{algorithms}", "en": "Supported algorithms: {algorithms}"}


class UploadTooLarge(UploadError):
    status = 413
    code = "upload.too_large"
    title = {"zh-CN": "文件过大", "en": "File too large"}
    detail = {"zh-CN": "{category}文件不能超过 {limit_mib} MiB", "en": "A {category} file may be at most {limit_mib} MiB"}


class QuotaExceeded(UploadError):
    status = 413
    code = "upload.quota_exceeded"
    title = {"zh-CN": "超出学校存储配额", "en": "School storage quota exceeded"}
    detail = {"zh-CN": "学校剩余空间 {free_mib} MiB，本文件需要 {needed_mib} MiB",
              "en": "The school has {free_mib} MiB left; this file needs {needed_mib} MiB"}


class UserQuotaExceeded(QuotaExceeded):
    """The same code: what a client does about it is the same."""

    title = {"zh-CN": "超出个人存储配额", "en": "Personal storage quota exceeded"}
    detail = {"zh-CN": "您的剩余空间 {free_mib} MiB，本文件需要 {needed_mib} MiB",
              "en": "You have {free_mib} MiB left; this file needs {needed_mib} MiB"}


class UnsupportedFileType(UploadError):
    status = 415
    code = "upload.unsupported_type"
    title = {"zh-CN": "不支持的文件类型", "en": "Unsupported file type"}
    detail = {"zh-CN": "支持的类型：文档（PDF、PPT/PPTX、DOC/DOCX、XLS/XLSX、ODP/ODT）、视频、音频、图片",
              "en": "Accepted: documents (PDF, PPT/PPTX, DOC/DOCX, XLS/XLSX, ODP/ODT), video, audio, images"}


class TypeMismatch(UploadError):
    status = 415
    code = "upload.type_mismatch"
    title = {"zh-CN": "文件内容与扩展名不符", "en": "File content does not match its name"}
    detail = {"zh-CN": "文件名为 {extension}，但内容是 {actual}", "en": "Named .{extension} but the content is {actual}"}


class UnsafeFile(UploadError):
    status = 422
    code = "upload.unsafe_file"
    title = {"zh-CN": "文件未通过安全检查", "en": "File failed a safety check"}
    detail = {"zh-CN": "{reason}", "en": "{reason}"}


class UnreadableMedia(UploadError):
    status = 422
    code = "upload.unreadable_media"
    title = {"zh-CN": "无法读取音视频文件", "en": "Media file cannot be read"}
    detail = {"zh-CN": "文件可能已损坏或不完整：{reason}", "en": "The file may be damaged or truncated: {reason}"}


class MediaOutOfLimits(UploadError):
    status = 422
    code = "upload.media_out_of_limits"
    title = {"zh-CN": "音视频参数超出限制", "en": "Media outside accepted limits"}
    detail = {"zh-CN": "{reason}", "en": "{reason}"}


class EncryptedFile(UploadError):
    status = 422
    code = "upload.encrypted_file"
    title = {"zh-CN": "文件已加密", "en": "File is encrypted"}
    detail = {"zh-CN": "{reason}。请去除密码后重新上传", "en": "{reason}. Remove the password and upload it again"}


class ActiveContent(UploadError):
    status = 422
    code = "upload.active_content"
    title = {"zh-CN": "文件含有可执行内容", "en": "File carries active content"}
    detail = {"zh-CN": "{reason}。请删除后（例如另存为或打印为 PDF）重新上传",
              "en": "{reason}. Remove it (for example save or print as PDF again) and upload again"}


class DamagedDocument(UploadError):
    status = 422
    code = "upload.damaged_document"
    title = {"zh-CN": "文档结构已损坏", "en": "Document structure is damaged"}
    detail = {"zh-CN": "{reason}。请用原软件重新保存后上传", "en": "{reason}. Save it again from its program and upload it"}


class TooComplex(UploadError):
    status = 422
    code = "upload.too_complex"
    title = {"zh-CN": "文件过于复杂，无法安全处理", "en": "File too demanding to process safely"}
    detail = {"zh-CN": "{reason}", "en": "{reason}"}


# What a check run in another process (uploads/inspector.py) may answer, by code.
REFUSALS: dict[str, type[UploadError]] = {error.code: error for error in (
    UnsupportedFileType, UnsafeFile, EncryptedFile, ActiveContent, DamagedDocument, TooComplex)}
class TooManyUploads(UploadError):
    status = 429
    code = "upload.too_many_in_flight"
    title = {"zh-CN": "同时上传的文件过多", "en": "Too many uploads at once"}
    detail = {"zh-CN": "{scope}同时进行的上传已达上限（{limit} 个），请稍后重试",
              "en": "{scope} has {limit} uploads receiving bytes already; retry shortly"}

    def __init__(self, *, scope: str, limit: int, retry_after_s: int) -> None:
        super().__init__(scope=scope, limit=limit)
        self.headers["Retry-After"] = str(retry_after_s)


class UploadIdle(UploadError):
    status = 408
    code = "upload.idle_timeout"
    title = {"zh-CN": "上传数据中断", "en": "Upload body stalled"}
    detail = {"zh-CN": "{seconds} 秒内未收到数据，请求已结束；已收到 {offset} 字节，请从该位置继续",
              "en": "No bytes arrived for {seconds} s, so the request was ended; the server has {offset} bytes, "
                    "resume from there"}

    def __init__(self, *, seconds: float, offset: int) -> None:
        super().__init__(seconds=f"{seconds:g}", offset=offset)
        self.headers["Upload-Offset"] = str(offset)


# Subtitle sidecars (services/common/subtitles.py parses them): refused when their upload ends,
# so nothing of a bad file is ever attached or stored.
class SubtitleBinary(UploadError):
    status = 415
    code = "subtitle.binary"
    title = {"zh-CN": "字幕文件不是文本", "en": "Subtitle file is not text"}
    detail = {"zh-CN": "该文件是二进制文件（可能是改了扩展名的视频或文档），字幕须为 WebVTT 或 SRT 文本",
              "en": "The file is binary (perhaps a renamed video or document); a subtitle is WebVTT or SRT text"}


class SubtitleNotUtf8(UploadError):
    status = 422
    code = "subtitle.bad_encoding"
    title = {"zh-CN": "字幕文件不是 UTF-8 编码", "en": "Subtitle file is not UTF-8"}
    detail = {"zh-CN": "第 {line} 行不是 UTF-8 文本，请以 UTF-8 编码另存后上传（GBK 等编码不支持）",
              "en": "Line {line} is not UTF-8 text; save the file as UTF-8 and upload it again"}


class SubtitleUnparseable(UploadError):
    status = 422
    code = "subtitle.unparseable"
    title = {"zh-CN": "无法解析字幕文件", "en": "Subtitle file cannot be parsed"}
    detail = {"zh-CN": "不是有效的 WebVTT 或 SRT 字幕：{reason}", "en": "Not a valid WebVTT or SRT file: {reason}"}


class SubtitleOutOfOrder(UploadError):
    status = 422
    code = "subtitle.out_of_order"
    title = {"zh-CN": "字幕时间轴有误", "en": "Subtitle timings out of order"}
    detail = {"zh-CN": "字幕时间有误：{reason}", "en": "Subtitle timings are wrong: {reason}"}


class SubtitleBadLanguage(UploadError):
    status = 422
    code = "subtitle.bad_language"
    title = {"zh-CN": "字幕语言代码无效", "en": "Invalid subtitle language"}
    detail = {"zh-CN": "语言代码 “{given}” 无效，请使用如 zh、en、zh-hant 的代码",
              "en": "“{given}” is not a language code; use one such as zh, en or zh-hant"}

"""RFC 9457 problem details: the one shape every error takes, with a stable `code`.

Domain code raises a `DomainError` subclass; `install_problem_handlers` turns it, and every
framework error (validation, unknown route, bad method, unexpected crash), into
`application/problem+json` in the caller's language.
"""
from __future__ import annotations

from typing import Any, ClassVar

import elastic_transport
import kombu.exceptions
import redis.exceptions
import structlog
import urllib3.exceptions
from fastapi import FastAPI, Request
from minio.error import ServerError as S3ServerError
from sqlalchemy import exc as sql_errors
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict
from starlette.routing import Match
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from services.common.i18n import Language, Message, negotiate_language, translate

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger(__name__)


class ProblemField(BaseModel):
    """One field that did not validate: where it is (`["body", "title"]`) and what is wrong."""

    loc: list[str | int]
    msg: str
    type: str | None = None


class ProblemDetails(BaseModel):
    """RFC 9457 problem details with a stable `code` (docs/problems.md lists every one)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemField] | None = None


# The problems any operation may answer, declared on every operation of the document
# (`problem_openapi`), so a route declares only its successes and inherits the rest.
PROBLEM_STATUSES: dict[int, str] = {
    400: "Bad request: malformed body or a request the domain refuses (`code` says which)",
    401: "Not authenticated: no, expired or revoked credentials",
    403: "Authenticated, but not allowed to do this",
    404: "Not found (or not visible to the caller)",
    405: "Method not allowed here (`Allow` lists the methods)",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Unsupported media type",
    422: "A field did not validate (`errors` says which)",
    429: "Too many requests (`Retry-After`)",
    503: "A backing service is unavailable (`Retry-After`)",
}


class DomainError(Exception):
    """An error a caller can act on. Subclasses set `status`, `code` and `title`; `detail`
    templates are formatted with the keyword arguments given when raising."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "request.invalid"
    title: ClassVar[Message] = {"zh-CN": "请求无效", "en": "Invalid request"}
    detail: ClassVar[Message | None] = None

    def __init__(self, *, headers: dict[str, str] | None = None,
                 errors: list[dict[str, Any]] | None = None, **params: Any) -> None:
        super().__init__(self.code)
        self.params = params
        self.headers = headers or {}
        self.errors = errors

    def problem(self, language: Language) -> dict[str, Any]:
        body = problem_body(status=self.status, code=self.code,
                            title=translate(self.title, language),
                            detail=translate(self.detail or self.title, language, **self.params))
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class InvalidField(DomainError):
    """A value that is well-formed but wrong here (an unknown code, say): a 422 with its field."""

    status = 422
    code = "request.validation_failed"
    title = {"zh-CN": "请求参数校验失败", "en": "The request did not validate"}

    def __init__(self, *, loc: list[str | int], msg: Message, **params: Any) -> None:
        self.loc, self.msg = loc, msg
        super().__init__(**params)

    def problem(self, language: Language) -> dict[str, Any]:
        message = translate(self.msg, language, **self.params)
        return problem_body(status=self.status, code=self.code, title=translate(self.title, language),
                            detail=message, errors=[{"loc": self.loc, "msg": message}])


class BodyTooLarge(DomainError):
    """A body past its limit before it is read whole (InputGuard: JSON bodies)."""

    status = 413
    code = "request.too_large"
    title = {"zh-CN": "请求体过大", "en": "Request body too large"}
    detail = {"zh-CN": "JSON 请求体不能超过 {limit_mib} MiB", "en": "A JSON body may not exceed {limit_mib} MiB"}


class DependencyUnavailable(DomainError):
    """A backing server does not answer (or answers that it cannot): a 503 to retry, not a bug."""

    status = 503
    code = "service.unavailable"
    title = {"zh-CN": "服务暂不可用", "en": "Service unavailable"}
    detail = {"zh-CN": "后台依赖（{dependency}）暂时无法响应，请稍后再试",
              "en": "A backing service ({dependency}) does not answer right now; try again shortly"}
    RETRY_AFTER_S: ClassVar[int] = 10

    def __init__(self, *, dependency: str) -> None:
        super().__init__(headers={"Retry-After": str(self.RETRY_AFTER_S)}, dependency=dependency)
        self.dependency = dependency

    def problem(self, language: Language) -> dict[str, Any]:
        return {**super().problem(language), "dependency": self.dependency}


# Errors that mean "a backing server is down or unreachable", by the dependency they name. A
# connection refused or lost, a timeout, an S3 5xx: never the request's fault.
_OUTAGES: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((sql_errors.OperationalError, sql_errors.InterfaceError, sql_errors.TimeoutError), "database"),
    ((urllib3.exceptions.MaxRetryError, urllib3.exceptions.NewConnectionError, urllib3.exceptions.ProtocolError,
      urllib3.exceptions.TimeoutError, S3ServerError), "storage"),
    ((elastic_transport.ConnectionError, elastic_transport.ConnectionTimeout), "index"),
    ((kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError), "broker"),
)


def unavailable_dependency(error: BaseException) -> str | None:
    """The dependency an error says is down, looking through its causes, or None (a bug)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sql_errors.DBAPIError) and current.connection_invalidated:
            return "database"
        for kinds, dependency in _OUTAGES:
            if isinstance(current, kinds):
                return dependency
        current = current.__cause__ or current.__context__
    return None


def problem_body(*, status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": f"/problems/{code}", "title": title, "status": status, "detail": detail,
            "code": code, **extra}


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], headers=headers,
                        media_type=PROBLEM_MEDIA_TYPE)


def request_language(request: Request) -> Language:
    return negotiate_language(request.headers.get("accept-language"))


# Messages for pydantic's error types, in Chinese; English uses pydantic's own text.
_VALIDATION_MESSAGES_ZH: dict[str, str] = {
    "missing": "缺少必填字段",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "enum": "取值必须是以下之一：{expected}",
    "literal_error": "取值必须是以下之一：{expected}",
    "string_type": "必须是字符串",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "bool_type": "必须是布尔值",
    "bool_parsing": "必须是布尔值",
    "list_type": "必须是数组",
    "dict_type": "必须是对象",
    "model_attributes_type": "必须是对象",
    "float_parsing": "必须是数字",
    "greater_than_equal": "必须大于或等于 {ge}",
    "less_than_equal": "必须小于或等于 {le}",
    "greater_than": "必须大于 {gt}",
    "less_than": "必须小于 {lt}",
    "string_pattern_mismatch": "格式不正确",
    "value_error": "取值无效",
    "extra_forbidden": "不允许的字段",
    "datetime_parsing": "必须是 ISO 8601 日期时间",
    "datetime_from_date_parsing": "必须是 ISO 8601 日期时间",
    "uuid_parsing": "必须是 UUID",
    "url_parsing": "必须是 URL",
}


def _validation_message(error: dict[str, Any], language: Language) -> str:
    if language == "zh-CN" and error["type"] in _VALIDATION_MESSAGES_ZH:
        context = {k: v for k, v in (error.get("ctx") or {}).items()}
        try:
            return _VALIDATION_MESSAGES_ZH[error["type"]].format(**context)
        except (KeyError, IndexError):
            return _VALIDATION_MESSAGES_ZH[error["type"]].split("{")[0].strip()
    return str(error["msg"])


_MALFORMED_BODY = {"zh-CN": "请求体不是有效的 JSON", "en": "The request body is not valid JSON"}
_VALIDATION_TITLE = InvalidField.title
_HTTP_PROBLEMS: dict[int, tuple[str, Message]] = {
    404: ("request.not_found", {"zh-CN": "请求的地址不存在", "en": "Nothing is found at this address"}),
    405: ("request.method_not_allowed", {"zh-CN": "不支持该请求方法", "en": "Method not allowed here"}),
    401: ("auth.not_authenticated", {"zh-CN": "需要登录", "en": "Authentication required"}),
    403: ("auth.forbidden", {"zh-CN": "没有权限", "en": "Not allowed"}),
    413: ("request.too_large", BodyTooLarge.title),
    415: ("request.unsupported_media_type", {"zh-CN": "不支持的内容类型", "en": "Unsupported media type"}),
}
_INTERNAL = {"zh-CN": "服务器内部错误", "en": "Internal server error"}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.problem(request_language(request)), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        language = request_language(request)
        errors = list(exc.errors())
        if any(error["type"] == "json_invalid" for error in errors):
            body = problem_body(status=400, code="request.malformed_body",
                                title=translate(_MALFORMED_BODY, language),
                                detail=translate(_MALFORMED_BODY, language))
            return problem_response(body)
        items = [{"loc": list(error["loc"]), "msg": _validation_message(error, language), "type": error["type"]}
                 for error in errors]
        detail = "; ".join(f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in items[:5])
        body = problem_body(status=422, code="request.validation_failed",
                            title=translate(_VALIDATION_TITLE, language), detail=detail, errors=items)
        return problem_response(body)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        language = request_language(request)
        code, title = _HTTP_PROBLEMS.get(exc.status_code, ("request.failed", {"zh-CN": "请求失败", "en": "Request failed"}))
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code not in (404, 405) else translate(title, language)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # RFC 9110: every method the path answers, not just one route's
            headers["Allow"] = allowed_methods(app, request)
        return problem_response(problem_body(status=exc.status_code, code=code,
                                             title=translate(title, language), detail=detail), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        language = request_language(request)
        dependency = unavailable_dependency(exc)
        if dependency is not None:
            # An outage, not a bug: the caller may retry; the error's text stays in the log.
            log.warning("dependency_unavailable", dependency=dependency, path=request.url.path,
                        error=f"{type(exc).__name__}: {exc}"[:500])
            unavailable = DependencyUnavailable(dependency=dependency)
            return problem_response(unavailable.problem(language), unavailable.headers)
        # A bug, not bad input: log it whole, tell the caller only that it happened.
        log.exception("unhandled_error", path=request.url.path)
        return problem_response(problem_body(status=500, code="internal", title=translate(_INTERNAL, language),
                                             detail=translate(_INTERNAL, language)))

    app.openapi = lambda: problem_openapi(app)  # type: ignore[method-assign]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: FastAPI, request: Request) -> str:
    """Every method some route of the app fully matches at this path (routes may be nested
    routers, so each method is tried rather than read off the routes)."""
    def answers(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)
    return ", ".join(method for method in _METHODS if answers(method))


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with every problem declared: each operation answers the
    `PROBLEM_STATUSES` (and the ones it declares itself) as `application/problem+json` with the
    `ProblemDetails` schema, in place of FastAPI's `HTTPValidationError` 422."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                           description=app.description, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ProblemField, ProblemDetails):
        schemas[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    reference = {"$ref": "#/components/schemas/ProblemDetails"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in PROBLEM_STATUSES.items():
                responses.setdefault(str(status), {"description": description})
            for status, response in responses.items():
                if status[0] in "45":
                    if response.get("description") == "Validation Error":
                        response["description"] = PROBLEM_STATUSES[422]
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": reference}}
            responses["405"].setdefault("headers", {})["Allow"] = {
                "description": "The methods this path answers", "schema": {"type": "string"}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = document
    return document

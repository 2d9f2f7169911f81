from __future__ import annotations

from services.common.problems import DomainError
from services.common.tokens import AUTHENTICATE


class NotAuthenticated(DomainError):
    status = 401
    code = "auth.not_authenticated"
    title = {"zh-CN": "需要登录", "en": "Authentication required"}
    detail = {"zh-CN": "请在 Authorization 头中提供 Bearer 登录凭证", "en": "Send a Bearer token in the Authorization header"}

    def __init__(self) -> None:
        super().__init__(headers=AUTHENTICATE)


class InvalidCredentials(DomainError):
    status = 401
    code = "auth.invalid_credentials"
    title = {"zh-CN": "用户名或密码错误", "en": "Wrong username or password"}


class AccountDisabled(DomainError):
    status = 403
    code = "auth.account_disabled"
    title = {"zh-CN": "账号已停用", "en": "Account disabled"}
    detail = {"zh-CN": "该账号已被管理员停用", "en": "This account has been disabled by an administrator"}


class TooManyAttempts(DomainError):
    status = 429
    code = "auth.too_many_attempts"
    title = {"zh-CN": "登录尝试过于频繁", "en": "Too many sign-in attempts"}
    detail = {"zh-CN": "登录失败次数过多，请 {retry_after} 秒后再试",
              "en": "Too many failed sign-ins; try again in {retry_after} seconds"}

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


class InvalidRefreshToken(DomainError):
    status = 401
    code = "auth.invalid_refresh_token"
    title = {"zh-CN": "刷新凭证无效", "en": "Invalid refresh token"}
    detail = {"zh-CN": "刷新凭证无效、已过期或已被使用，请重新登录",
              "en": "The refresh token is invalid, expired or already used; log in again"}


class Forbidden(DomainError):
    status = 403
    code = "auth.forbidden"
    title = {"zh-CN": "没有权限", "en": "Not allowed"}
    detail = {"zh-CN": "当前账号没有执行此操作的权限", "en": "Your account may not do this"}

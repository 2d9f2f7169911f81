from __future__ import annotations

from services.common.problems import DomainError


class InvalidPlaybackToken(DomainError):
    status = 403
    code = "playback.invalid_token"
    title = {"zh-CN": "播放链接无效或已过期", "en": "Playback link invalid or expired"}
    detail = {"zh-CN": "播放链接已过期或被篡改，请重新打开课程", "en": "The playback link has expired or been altered; open the lesson again"}


class NotPlayable(DomainError):
    status = 409
    code = "playback.not_ready"
    title = {"zh-CN": "暂时无法播放", "en": "Not playable yet"}
    detail = {"zh-CN": "该资源还没有可播放的视频（可能仍在转码中）",
              "en": "This resource has no playable video yet (it may still be processing)"}


class PlayNotFound(DomainError):
    status = 404
    code = "playback.play_not_found"
    title = {"zh-CN": "播放记录不存在", "en": "Play not found"}
    detail = {"zh-CN": "该播放记录不存在或不属于你", "en": "The play does not exist or is not yours"}


class InvalidStartTime(DomainError):
    status = 422
    code = "playback.invalid_start"
    title = {"zh-CN": "播放起点无效", "en": "Invalid start time"}
    detail = {"zh-CN": "t 须为 0 到视频时长（{duration}）之间的秒数：{reason}",
              "en": "t must be seconds from 0 to the video's duration ({duration}): {reason}"}

from __future__ import annotations

from services.common.problems import DomainError


class SubtitleNeedsVideo(DomainError):
    status = 422
    code = "subtitle.no_video"
    title = {"zh-CN": "字幕需要配合视频", "en": "A subtitle needs a video"}
    detail = {"zh-CN": "字幕文件只能添加到含有视频的资源（可与视频一同上传）",
              "en": "A subtitle can only be added to a resource with a video (upload it together with the video)"}


class SubtitleBeyondVideo(DomainError):
    status = 422
    code = "subtitle.beyond_video"
    title = {"zh-CN": "字幕超出视频时长", "en": "Subtitle runs past the video"}
    detail = {"zh-CN": "字幕的最后一条在 {end_s} 秒结束，但视频只有 {duration_s} 秒，请检查是否配错了视频",
              "en": "The last cue ends at {end_s} s but the video lasts {duration_s} s; is it this video's subtitle?"}


class SubtitleNotFound(DomainError):
    status = 404
    code = "subtitle.not_found"
    title = {"zh-CN": "字幕不存在", "en": "Subtitle not found"}
    detail = {"zh-CN": "该字幕不存在或已被替换", "en": "The subtitle does not exist or was replaced"}

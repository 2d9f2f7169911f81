"""services/common/subtitles.py: WebVTT and SRT read as players and teachers write them, written
back as WebVTT, and the start of real MPEG-TS segments found for X-TIMESTAMP-MAP."""
from __future__ import annotations

import subprocess

import pytest

from services.common import subtitles
from tests import media


def test_srt_with_a_bom_crlf_and_markup_becomes_clean_webvtt():
    srt = ("\ufeff1\r\n00:00:01,5 --> 00:00:03,250\r\n<font color=\"#fff\">{\\an8}配方法</font> & <b>例题</b>\r\n\r\n"
           "2\r\n01:02:03,004 --> 01:02:04,000\r\n第二行\r\n第三行\r\n").encode()
    parsed = subtitles.parse(srt)
    assert parsed.format == "srt" and [c.start_s for c in parsed.cues] == [1.5, 3723.004]
    assert parsed.cues[0].text == "配方法 & 例题" and parsed.cues[1].text == "第二行 第三行"
    assert subtitles.to_webvtt(parsed, mpegts=126000) == (
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n"
        "00:00:01.500 --> 00:00:03.250\n配方法 &amp; <b>例题</b>\n\n"
        "01:02:03.004 --> 01:02:04.000\n第二行\n第三行\n")


def test_webvtt_notes_styles_ids_and_settings():
    vtt = ("WEBVTT - 配方法\nKind: captions\n\nSTYLE\n::cue { color: yellow }\n\nNOTE 备注\n\n"
           "cue-1\n00:01.000 --> 00:02.000 line:0 position:20%\n<v 王老师>同学们好</v>\n").encode()
    [cue] = subtitles.parse(vtt).cues
    assert (cue.start_s, cue.end_s, cue.settings, cue.text) == (1.0, 2.0, "line:0 position:20%", "同学们好")
    assert "00:00:01.000 --> 00:00:02.000 line:0 position:20%\n<v 王老师>同学们好</v>" in subtitles.to_webvtt(
        subtitles.parse(vtt))


@pytest.mark.parametrize("data, reason", [
    (b"", "unparseable"),
    (b"WEBVTT\n", "unparseable"),
    (b"1\n00:00:01,000 --> 00:00:02,000\na\n00:00:03,000 --> 00:00:04,000\nb\n", "unparseable"),
    (b"1\n00:00:01,000 --> 00:61:02,000\na\n", "unparseable"),
    (b"1\n00:00:02,000 --> 00:00:02,000\na\n", "out_of_order"),
    (b"1\n100:00:01,000 --> 100:00:02,000\na\n", "out_of_order"),
    ("1\n00:00:01,000 --> 00:00:02,000\n同学们\n".encode("utf-16"), "binary"),
    ("1\n00:00:01,000 --> 00:00:02,000\n同学们\n".encode("gb18030"), "not_utf8"),
    (b"\x1a\x45\xdf\xa3 webm", "binary"),
    (b"x" * (subtitles.MAX_BYTES + 1), "too_large"),
])
def test_what_is_refused_and_why(data, reason):
    with pytest.raises(subtitles.SubtitleInvalid) as refused:
        subtitles.parse(data)
    assert refused.value.reason == reason


def test_languages():
    assert subtitles.normalise_language("zh_Hant") == "zh-hant"
    assert subtitles.normalise_language("中文") is None
    assert subtitles.language_from_filename("第一课.en.srt") == "en"
    assert subtitles.language_from_filename("第一课.srt") is None


def test_the_first_video_pts_of_an_mpeg_ts_segment(tmp_path):
    source = media.lesson_mp4(tmp_path / "l.mp4", seconds=2)
    segment = tmp_path / "seg.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c", "copy", "-f", "mpegts", str(segment)],
                   check=True, timeout=60)
    probed = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=start_pts",
                             "-of", "csv=p=0", str(segment)], capture_output=True, text=True, check=True).stdout
    assert subtitles.first_pts(segment.read_bytes()[:188 * 400]) == int(probed.split()[0])
    assert subtitles.first_pts(b"not a transport stream" * 100) is None

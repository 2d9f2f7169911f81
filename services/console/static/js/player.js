// The lesson player: GET /resources/{id}/play, then hls.js on a <video> (Safari and iOS play HLS
// natively). It starts on the rung the master lists first, which the API picks to fit the
// caller's school link; then hls.js adapts, or the viewer chooses a rung. Subtitle tracks are
// offered when the master has any. Watched seconds go to POST /resources/{id}/play/progress.
import { h } from './dom.js';
import { translator } from './i18n.js';
import { loadFromListedRung, startWhenBuffered } from './startup.js';

const t = translator({
  zh: { rung: '清晰度', auto: '自动（{now}）', audio: '仅声音', subtitles: '字幕', off: '关闭', playing: '正在播放 {height}',
        not_ready: '视频还在处理，稍后再来看。', download: '下载视频', unsupported: '这个浏览器不能播放 HLS 视频。',
        player: '课程视频' },
  en: { rung: 'Quality', auto: 'Auto ({now})', audio: 'Audio only', subtitles: 'Subtitles', off: 'Off', playing: 'Playing {height}',
        not_ready: 'The video is still being processed; come back later.', download: 'Download video',
        unsupported: 'This browser cannot play HLS video.', player: 'Lesson video' },
});
const REPORT_EVERY_S = 15;

function rungName(level) {
  return level?.height ? `${level.height}p` : t('audio');
}

/**
 * Mounts a player into `container`. Options: `start` (seconds), `big` (classroom layout),
 * `classroom` (name reported with the watched time). Returns {destroy(), state}.
 */
export async function mountPlayer(container, { api, resourceId, start, big = false, classroom = '', autoplay = false,
                                               onEnded } = {}) {
  const play = await api.get(`/resources/${resourceId}/play`, start ? { t: start } : undefined);
  const video = h('video', { controls: true, playsinline: true, preload: 'metadata', poster: play.poster_url || undefined,
                             'aria-label': t('player'), class: big ? 'video big' : 'video' });
  // With hls.js the lesson starts once the short first segments are in (startup.js), by itself
  // (autoplay) or when the viewer presses play;
  // Safari's own HLS decides for itself.
  if (autoplay) video.muted = false;
  const rung = h('select', { 'aria-label': t('rung'), class: 'rung' });
  const subtitles = h('select', { 'aria-label': t('subtitles'), class: 'subtitles', hidden: true });
  const now = h('span', { class: 'now', 'aria-live': 'polite' });
  const controls = h('div', { class: 'player-controls' },
    h('label', {}, t('rung'), ' ', rung), h('label', { hidden: true, class: 'subtitles-label' }, t('subtitles'), ' ', subtitles),
    now, play.download_url && !big ? h('a', { href: play.download_url, class: 'button' }, t('download')) : null);
  container.append(h('div', { class: big ? 'player big' : 'player' }, video, controls));
  const state = { levels: [], startLevel: null, firstLevel: null, currentLevel: null, errors: [], native: false,
                  subtitleTracks: 0, hlsUrl: play.hls_url, firstPlayed: null };
  window.lbPlayer = state;

  // Watched time, reported as it grows.
  let watched = 0;
  let last = null;
  let reported = 0;
  let playId = null;
  async function report() {
    const seconds = Math.floor(watched);
    if (seconds <= reported) return;
    try {
      const answer = await api.post(`/resources/${resourceId}/play/progress`, { seconds, play_id: playId, classroom });
      playId = answer.play_id;
      reported = seconds;
    } catch { /* retried with the next report */ }
  }
  video.addEventListener('timeupdate', () => {
    if (last !== null && !video.paused && video.currentTime > last && video.currentTime - last < 2) watched += video.currentTime - last;
    last = video.currentTime;
    if (watched - reported >= REPORT_EVERY_S) report();
  });
  video.addEventListener('seeking', () => { last = null; });
  video.addEventListener('ended', () => { report(); onEnded?.(); });

  let hls = null;
  const { default: Hls } = await import('../vendor/hls.js/hls.min.mjs');
  if (Hls.isSupported()) {
    hls = new Hls({ autoStartLoad: false, startPosition: start ? Number(start) : -1, enableWorker: true });
    loadFromListedRung(hls, Hls.Events, { startPosition: start ? Number(start) : -1 });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      state.levels = hls.levels.map((l) => [l.height || 0, l.bitrate]);
      state.firstLevel = hls.firstLevel;
      state.startLevel = hls.firstLevel;
      rung.replaceChildren(h('option', { value: '-1' }, t('auto', { now: rungName(hls.levels[hls.firstLevel]) })),
        ...hls.levels.map((level, i) => h('option', { value: String(i) }, `${rungName(level)} · ${Math.round(level.bitrate / 1000)} kbit/s`)));
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      state.currentLevel = data.level;
      const level = hls.levels[data.level];
      state.firstPlayed ??= level?.height || 0;
      now.textContent = t('playing', { height: rungName(level) });
      if (hls.autoLevelEnabled) rung.options[0].textContent = t('auto', { now: rungName(level) });
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_e, data) => {
      state.subtitleTracks = data.subtitleTracks.length;
      subtitles.replaceChildren(h('option', { value: '-1' }, t('off')),
        ...data.subtitleTracks.map((track, i) => h('option', { value: String(i) }, track.name || track.lang || `#${i + 1}`)));
      const shown = data.subtitleTracks.length > 0;
      subtitles.hidden = !shown;
      controls.querySelector('.subtitles-label').hidden = !shown;
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      state.errors.push(`${data.fatal ? 'fatal ' : ''}${data.type}: ${data.details}`);
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    rung.addEventListener('change', () => { hls.currentLevel = Number(rung.value); });
    subtitles.addEventListener('change', () => { hls.subtitleTrack = Number(subtitles.value); hls.subtitleDisplay = subtitles.value !== '-1'; });
    startWhenBuffered(hls, video, Hls.Events, { autoplay });
    hls.loadSource(play.hls_url);
    hls.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    state.native = true;  // Safari, iPhone: the browser picks rungs itself
    video.autoplay = autoplay;
    rung.closest('label').hidden = true;
    video.src = play.hls_url;
    if (start) video.currentTime = Number(start);
  } else {
    container.append(h('p', { class: 'flash error' }, t('unsupported')));
  }
  return {
    video,
    state,
    destroy() {
      report();
      hls?.destroy();
      video.removeAttribute('src');
      video.load();
      if (window.lbPlayer === state) window.lbPlayer = undefined;
    },
  };
}

export const playerStrings = t;

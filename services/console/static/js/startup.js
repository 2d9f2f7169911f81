// When the platform's players start a lesson: once they hold START_BUFFER_S seconds of it, not on
// its first segment. The ladder's first segments are short (services/transcoder/ladder.py: two of
// INIT_SEGMENT_S = 2 s, then 4 s ones) so a classroom on a shared village link fetches little before
// the first frame; but hls.js, left to the <video>, plays on the first 2 s segment, and with 2 s in
// hand any next fetch slower than 2 s stalls: a rung switch right after the start (its media
// playlist first, then the segment), a busy link, the step to 4 s segments (traced:
// bench/weaklink/start_trace.py; docs/design.md, "A start that fits a shared link"). Holding both
// short segments (4 s) before playing costs one short segment at the start and leaves a 4 s
// segment's fetch 4 s of room. Plain ES module, no imports: the console's player (player.js) and the
// weak-link benchmark's player (bench/weaklink/player.html) both use it.
export const START_BUFFER_S = 4; // = INIT_SEGMENT_S × INIT_SEGMENTS (tests/transcoder/test_startup_rule.py)
// The first buffered range may open a few frames late (B-frame delay, audio ahead of video).
const SLACK_S = 0.5;

function bufferedAhead(video) {
  const ranges = video.buffered;
  for (let i = 0; i < ranges.length; i++) {
    // The range holding the play position, or the first one past it (hls.js skips a start hole).
    if (ranges.end(i) > video.currentTime) return ranges.end(i) - Math.max(video.currentTime, ranges.start(i));
  }
  return 0;
}

function wholeBuffered(video) {
  const ranges = video.buffered;
  return Number.isFinite(video.duration) && ranges.length > 0 && ranges.end(ranges.length - 1) >= video.duration - 0.1;
}

/**
 * Starts `video` (fed by `hls`; `events` is Hls.Events) once START_BUFFER_S seconds lie buffered
 * ahead of the play position, or the whole lesson: by itself with `autoplay`, else when the viewer
 * asks for play. A play asked for sooner (a teacher pressing play as the page opens) is held: the
 * video pauses and plays as soon as the buffer is there. Only the first start is held; later
 * pauses, seeks and plays are the browser's. Returns a function that stops the rule.
 */
export function startWhenBuffered(hls, video, events, { autoplay = false, seconds = START_BUFFER_S,
                                                       play = () => video.play() } = {}) {
  let wanted = autoplay;
  let started = false;
  const ready = () => bufferedAhead(video) >= seconds - SLACK_S || wholeBuffered(video);
  const stop = () => {
    started = true;
    hls.off(events.FRAG_BUFFERED, check);
    hls.off(events.BUFFER_EOS, check);
    video.removeEventListener('play', asked);
  };
  function check() {
    if (started || !wanted || !ready()) return;
    stop();
    Promise.resolve(play()).catch(() => { /* refused autoplay: the viewer presses play */ });
  }
  function asked() {
    if (started) return;
    if (ready()) { stop(); return; }
    wanted = true;
    video.pause(); // held until the short segments are in (check)
  }
  hls.on(events.FRAG_BUFFERED, check);
  hls.on(events.BUFFER_EOS, check);
  video.addEventListener('play', asked);
  return stop;
}

/**
 * Loads `hls` (made with `autoStartLoad: false`) from the rung its master lists first: the one the
 * API chose for the school's link and its plays active now (services/api/playback/service.py,
 * start_budget). hls.js left to itself starts where its own guess points (500 kbit/s, raised to
 * the first rung's bitrate only when that is higher), so it ignores a lower first rung: ten
 * classrooms told to start at 360p started at 480p (docs/benchmarks.md, "Weak link").
 *
 * And it holds to that rung until the start buffer (`seconds`) is in, neither above nor below it
 * (a level set by hand, `loadLevel`; then automatic again). The rung was chosen so those seconds
 * arrive within START_FETCH_S, and one or two short segments are a poor measure of a link: behind
 * a school edge the first one comes from the cache at LAN speed, hls.js asked for the top rung
 * next, over the village link, and a classroom alone started in 3.0 s instead of 1.9; a page
 * starved of CPU times the same small segments slowly and stepped down to a rung whose start
 * nobody had fetched (docs/benchmarks.md, "The school edge", sessions 13 and 14). A level the
 * viewer picks meanwhile is kept.
 */
export function loadFromListedRung(hls, events, { startPosition = -1, seconds = START_BUFFER_S } = {}) {
  let pinned = -1;
  function release() {
    const video = hls.media;
    if (!video || !(bufferedAhead(video) >= seconds - SLACK_S || wholeBuffered(video))) return;
    if (hls.manualLevel === pinned) hls.loadLevel = -1;
    hls.off(events.FRAG_BUFFERED, release);
    hls.off(events.BUFFER_EOS, release);
  }
  hls.on(events.MANIFEST_PARSED, () => {
    pinned = hls.firstLevel;
    hls.startLevel = pinned;
    hls.loadLevel = pinned;
    hls.on(events.FRAG_BUFFERED, release);
    hls.on(events.BUFFER_EOS, release);
    hls.startLoad(startPosition);
  });
}

// When the platform's players start a lesson: once they hold START_BUFFER_S seconds of it, not on
// its first segment. The ladder's first segments are short (services/transcoder/ladder.py: two of
// INIT_SEGMENT_S = 2 s, then 4 s ones) so a classroom on a shared village link fetches little before
// the first frame; but hls.js, left to the <video>'s autoplay, starts on the first 2 s segment, and
// with 2 s in hand any next fetch slower than 2 s stalls: a rung switch right after the start (its
// media playlist first, then the segment), a busy link, or the step to 4 s segments (measured:
// docs/benchmarks.md, "Weak link"). Holding both short segments (4 s) before playing costs one short
// segment at the start and leaves a 4 s segment's fetch 4 s of room. Plain ES module, no imports:
// the console's player (player.js) and the weak-link benchmark's player (bench/weaklink/player.html)
// both use it.
export const START_BUFFER_S = 4; // = INIT_SEGMENT_S × INIT_SEGMENTS (tests/transcoder/test_startup_rule.py)

/**
 * Plays `video` (fed by `hls`) as soon as START_BUFFER_S seconds lie buffered ahead of the play
 * position, or the whole stream is buffered (a lesson shorter than that). `events` is Hls.Events.
 * Returns a function that cancels the wait.
 */
export function playWhenBuffered(hls, video, events, { seconds = START_BUFFER_S, play = () => video.play() } = {}) {
  let done = false;
  const ahead = () => {
    const ranges = video.buffered;
    for (let i = 0; i < ranges.length; i++) {
      // The range holding the play position, or the first one past it (hls.js skips a start hole).
      if (ranges.end(i) > video.currentTime) return ranges.end(i) - Math.max(video.currentTime, ranges.start(i));
    }
    return 0;
  };
  const check = () => {
    if (done) return;
    const whole = Number.isFinite(video.duration) && video.buffered.length > 0
      && video.buffered.end(video.buffered.length - 1) >= video.duration - 0.1;
    // Half a second of slack: the first range may start a few frames late (B-frame delay).
    if (ahead() >= seconds - 0.5 || whole) {
      stop();
      Promise.resolve(play()).catch(() => { /* refused autoplay: the viewer presses play */ });
    }
  };
  const stop = () => {
    done = true;
    hls.off(events.FRAG_BUFFERED, check);
    hls.off(events.BUFFER_EOS, check);
  };
  hls.on(events.FRAG_BUFFERED, check);
  hls.on(events.BUFFER_EOS, check);
  return stop;
}

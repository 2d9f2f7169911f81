// The classroom's big screen (a rural school's projector): one lesson, or a pack of lessons
// played in order (#/classroom?ids=a,b,c). Playback starts on the rung the API's /play chose for
// the school's link. Big controls, keyboard: Space play/pause, F full screen, N/P next/previous.
import { h } from '../dom.js';
import { labels } from '../labels.js';
import { mountPlayer } from '../player.js';

export const strings = {
  zh: { title: '课堂大屏', choose: '选择要在课堂上播放的课', start: '开始上课（{n} 节）', none: '还没有可以播放的课。',
        play: '播放', pause: '暂停', fullscreen: '全屏', next: '下一节', previous: '上一节', exit: '退出大屏',
        lesson_of: '第 {i} / {n} 节', classroom: '教室', classroom_hint: '如：三年级一班（记入观看统计）',
        keys: '空格 播放/暂停 · F 全屏 · N 下一节 · P 上一节', find: '找更多课', not_ready: '这节课的视频还在处理。' },
  en: { title: 'Classroom screen', choose: 'Choose lessons to play in class', start: 'Start class ({n} lessons)',
        none: 'No playable lessons yet.', play: 'Play', pause: 'Pause', fullscreen: 'Full screen', next: 'Next lesson',
        previous: 'Previous lesson', exit: 'Leave the big screen', lesson_of: 'Lesson {i} of {n}', classroom: 'Classroom',
        classroom_hint: 'e.g. Grade 3 Class 1 (counted in the watch statistics)',
        keys: 'Space play/pause · F full screen · N next · P previous', find: 'Find more lessons',
        not_ready: "This lesson's video is still being processed." },
};

const CLASSROOM = 'lb.classroom';
const VIDEO_KINDS = ['micro_lesson', 'excellent_lesson', 'lesson_recording'];

async function chooser(root, { api, t, navigate }) {
  const answers = await Promise.all(VIDEO_KINDS.map((kind) => api.get('/search', { kind, sort: 'newest', size: 20 })));
  const lessons = answers.flatMap((a) => a.hits);
  const picked = new Set();
  const start = h('button', { type: 'button', class: 'primary big', disabled: true,
    onclick: () => navigate(`#/classroom?ids=${[...picked].join(',')}`) }, t('start', { n: 0 }));
  const list = h('ul', { class: 'lesson-pick' }, lessons.map((hit) => h('li', {}, h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: hit.id, onchange: (e) => {
      if (e.target.checked) picked.add(hit.id); else picked.delete(hit.id);
      start.disabled = !picked.size;
      start.textContent = t('start', { n: picked.size });
    } }), `${hit.title}`, h('small', {}, ` · ${labels(`kind_${hit.kind}`)}${hit.duration_s ? ` · ${Math.round(hit.duration_s / 60)} min` : ''}`)))));
  root.append(h('h1', {}, t('title')), h('h2', {}, t('choose')),
    lessons.length ? list : h('p', { class: 'empty' }, t('none')), start, ' ', h('a', { href: '#/search' }, t('find')));
}

export async function render(root, ctx) {
  const { api, t, params, query, showError } = ctx;
  const ids = params.id ? [params.id] : (query.ids || '').split(',').filter(Boolean);
  if (!ids.length) return chooser(root, ctx);

  document.body.classList.add('classroom-mode');
  let index = Math.max(0, Math.min(ids.length - 1, Number(query.i || 0)));
  let player = null;
  const stage = h('div', { class: 'stage' });
  const heading = h('h1', { class: 'lesson-title' });
  const position = h('span', { class: 'lesson-of' });
  const classroom = h('input', { id: 'classroom-name', value: localStorage.getItem(CLASSROOM) || '', maxlength: 64,
    placeholder: t('classroom_hint'), onchange: () => localStorage.setItem(CLASSROOM, classroom.value.trim()) });
  const playButton = h('button', { type: 'button', class: 'big primary', onclick: () => toggle() }, t('play'));
  const fullButton = h('button', { type: 'button', class: 'big', onclick: () => fullscreen() }, t('fullscreen'));
  const prev = h('button', { type: 'button', class: 'big', onclick: () => show(index - 1) }, t('previous'));
  const next = h('button', { type: 'button', class: 'big', onclick: () => show(index + 1) }, t('next'));
  const screen = h('div', { class: 'classroom' },
    h('div', { class: 'classroom-head' }, heading, position, h('a', { href: '#/classroom', class: 'button' }, t('exit'))),
    stage,
    h('div', { class: 'classroom-controls' }, prev, playButton, next, fullButton,
      h('label', { for: 'classroom-name' }, t('classroom')), classroom),
    h('p', { class: 'keys' }, t('keys')));
  root.append(screen);

  function toggle() {
    const video = player?.video;
    if (!video) return;
    if (video.paused) video.play().catch(() => {}); else video.pause();
  }
  function fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else screen.requestFullscreen?.().catch(() => {});
  }
  async function show(i) {
    if (i < 0 || i >= ids.length) return;
    index = i;
    player?.destroy();
    player = null;
    stage.replaceChildren();
    prev.disabled = index === 0;
    next.disabled = index === ids.length - 1;
    position.textContent = ids.length > 1 ? t('lesson_of', { i: index + 1, n: ids.length }) : '';
    try {
      const resource = await api.get(`/resources/${ids[index]}`);
      heading.textContent = resource.title;
      player = await mountPlayer(stage, { api, resourceId: ids[index], big: true, classroom: classroom.value.trim(),
                                          onEnded: () => show(index + 1) });
      const video = player.video;
      video.addEventListener('play', () => { playButton.textContent = t('pause'); });
      video.addEventListener('pause', () => { playButton.textContent = t('play'); });
      playButton.focus();
    } catch (error) {
      if (error.code === 'playback.not_ready') stage.append(h('p', { class: 'flash error' }, t('not_ready')));
      else showError(error);
    }
  }
  const keys = (event) => {
    if (event.target.matches('input, select, textarea')) return;
    if (event.key === ' ' && !event.target.matches('button, video')) { event.preventDefault(); toggle(); }
    else if (event.key === 'f' || event.key === 'F') fullscreen();
    else if (event.key === 'n' || event.key === 'N') show(index + 1);
    else if (event.key === 'p' || event.key === 'P') show(index - 1);
  };
  document.addEventListener('keydown', keys);
  await show(index);
  return () => {
    document.removeEventListener('keydown', keys);
    document.body.classList.remove('classroom-mode');
    player?.destroy();
  };
}

// Describing a resource with the taxonomy: subject → grade (its stage) → edition → volume →
// chapter → knowledge points, each picker filled from the taxonomy routes; knowledge points from
// the tree of the chosen subject and stage (browse or type to find). No free codes. Used by the
// upload page (create) and the edit page (PATCH).
import { h, field, debounce } from './dom.js';
import { translator } from './i18n.js';
import { labels, KINDS, VISIBILITIES } from './labels.js';

const t = translator({
  zh: { title: '标题', description: '简介', kind: '类型', subject: '学科', grade: '年级', edition: '教材版本',
        volume: '册次', chapter: '章节', points: '知识点', points_hint: '先选学科和年级；可浏览知识点树，或输入名称查找',
        find_point: '查找知识点', chosen: '已选知识点', remove: '移除 {name}', tags: '标签', tags_hint: '用逗号或空格分隔',
        visibility: '谁能看到', license: '许可协议', choose: '— 请选择 —', any: '— 不指定 —', open: '展开 {name}',
        add: '选择 {name}', no_points: '没有匹配的知识点', loading: '加载中…', kp_tree: '知识点树' },
  en: { title: 'Title', description: 'Description', kind: 'Kind', subject: 'Subject', grade: 'Grade',
        edition: 'Textbook edition', volume: 'Volume', chapter: 'Chapter', points: 'Knowledge points',
        points_hint: 'Choose a subject and grade first; browse the tree or type a name', find_point: 'Find a knowledge point',
        chosen: 'Chosen knowledge points', remove: 'Remove {name}', tags: 'Tags', tags_hint: 'Separated by commas or spaces',
        visibility: 'Who can see it', license: 'Licence', choose: '— choose —', any: '— none —', open: 'Open {name}',
        add: 'Choose {name}', no_points: 'No matching knowledge point', loading: 'Loading…', kp_tree: 'Knowledge-point tree' },
});

const LICENSES = ['CC-BY-NC-SA-4.0', 'CC-BY-4.0', 'CC-BY-SA-4.0', 'CC-BY-NC-4.0', 'CC-BY-ND-4.0', 'CC-BY-NC-ND-4.0',
  'CC0-1.0', 'school-only', 'district-only'];

const cache = new Map();
async function all(api, path, params = {}) {
  const key = `${path}?${new URLSearchParams(params)}`;
  if (!cache.has(key)) {
    cache.set(key, (async () => {
      const items = [];
      for (let page = 1; ; page += 1) {
        const answer = await api.get(path, { ...params, page, size: 100 });
        items.push(...answer.items);
        if (items.length >= answer.total || !answer.items.length) return items;
      }
    })().catch((error) => { cache.delete(key); throw error; }));
  }
  return cache.get(key);
}

function options(select, items, { empty, selected, label = (i) => i.name, value = (i) => i.code }) {
  select.replaceChildren(h('option', { value: '' }, empty),
    ...items.map((item) => h('option', { value: value(item), selected: value(item) === selected }, label(item))));
  select.disabled = !items.length;
}

/**
 * Builds the form fields into `container`; returns {values(), validate()}.
 * `initial`: a resource as GET /resources/{id} returns it (edit), or {} (new).
 */
export async function describeForm(container, { api, initial = {} }) {
  const title = h('input', { name: 'title', required: true, maxlength: 200, value: initial.title || '' });
  const description = h('textarea', { name: 'description', maxlength: 5000 }, initial.description || '');
  const kind = h('select', { name: 'kind', required: true });
  options(kind, KINDS.map((k) => ({ code: k, name: labels(`kind_${k}`) })), { empty: t('choose'), selected: initial.kind });
  const subject = h('select', { name: 'subject' });
  const grade = h('select', { name: 'grade' });
  const edition = h('select', { name: 'edition' });
  const volume = h('select', { name: 'volume' });
  const chapter = h('select', { name: 'chapter' });
  const tags = h('input', { name: 'tags', value: (initial.tags || []).join('，') });
  const visibility = h('select', { name: 'visibility' });
  options(visibility, VISIBILITIES.map((v) => ({ code: v, name: labels(`visibility_${v}`) })),
    { empty: t('choose'), selected: initial.visibility || 'school' });
  const license = h('select', { name: 'license' });
  options(license, LICENSES.map((code) => ({ code, name: code })), { empty: t('choose'), selected: initial.license || 'CC-BY-NC-SA-4.0' });

  const chosen = new Map((initial.knowledge_points || []).map((kp) => [kp.id, kp.name]));
  const chips = h('ul', { class: 'chips', 'aria-label': t('chosen') });
  const find = h('input', { type: 'search', name: 'kp-find', autocomplete: 'off', placeholder: t('find_point') });
  const tree = h('ul', { class: 'kp-tree', role: 'tree', 'aria-label': t('kp_tree') });

  const [subjects, grades, editions] = await Promise.all([
    all(api, '/taxonomy/subjects'), all(api, '/taxonomy/grades'), all(api, '/taxonomy/editions')]);
  options(subject, subjects, { empty: t('any'), selected: initial.subject });
  options(grade, grades, { empty: t('any'), selected: initial.grade });
  options(edition, editions, { empty: t('any'), selected: initial.edition });
  const stageOf = () => grades.find((g) => g.code === grade.value)?.stage_code || initial.stage || '';

  async function loadVolumes(selected) {
    if (!edition.value || !subject.value || !grade.value) { options(volume, [], { empty: t('any') }); return loadChapters(); }
    options(volume, await all(api, '/taxonomy/volumes', { edition: edition.value, subject: subject.value, grade: grade.value }),
      { empty: t('any'), selected });
    return loadChapters(selected === initial.volume ? initial.chapter : undefined);
  }
  async function loadChapters(selected) {
    if (!volume.value) { options(chapter, [], { empty: t('any') }); return; }
    options(chapter, await all(api, '/taxonomy/chapters', { volume: volume.value }),
      { empty: t('any'), selected, label: (c) => `${c.position}. ${c.name}` });
  }

  function drawChips() {
    chips.replaceChildren(...[...chosen].map(([id, name]) => h('li', { dataset: { id } }, name,
      h('button', { type: 'button', class: 'chip-x', 'aria-label': t('remove', { name }),
                    onclick: () => { chosen.delete(id); drawChips(); } }, '×'))));
  }

  function node(kp) {
    const item = h('li', { role: 'treeitem', 'aria-expanded': 'false', dataset: { id: kp.id } });
    const children = h('ul', { role: 'group', hidden: true });
    const toggle = h('button', { type: 'button', class: 'kp-open', 'aria-label': t('open', { name: kp.name }),
      onclick: async () => {
        const open = item.getAttribute('aria-expanded') !== 'true';
        item.setAttribute('aria-expanded', String(open));
        children.hidden = !open;
        if (open && !children.childElementCount) {
          const kids = await all(api, '/taxonomy/knowledge-points', { parent_id: kp.id });
          children.replaceChildren(...(kids.length ? kids.map(node) : [h('li', { class: 'muted' }, t('no_points'))]));
        }
      } }, '▸');
    const pick = h('button', { type: 'button', class: 'kp-pick', 'aria-label': t('add', { name: kp.name }),
      onclick: () => { chosen.set(kp.id, kp.name); drawChips(); } }, kp.name);
    item.append(toggle, pick, children);
    return item;
  }

  async function loadTree() {
    const stage = stageOf();
    if (!subject.value || !stage) { tree.replaceChildren(h('li', { class: 'muted' }, t('points_hint'))); return; }
    tree.replaceChildren(h('li', { class: 'muted' }, t('loading')));
    const q = find.value.trim();
    const items = await all(api, '/taxonomy/knowledge-points', q ? { subject: subject.value, stage, q }
      : { subject: subject.value, stage, roots: true });
    tree.replaceChildren(...(items.length ? items.slice(0, 100).map(node) : [h('li', { class: 'muted' }, t('no_points'))]));
    // A single root (e.g. 小学数学) opens by itself.
    if (!q && items.length === 1) tree.querySelector('.kp-open')?.click();
  }

  subject.addEventListener('change', () => { loadVolumes(); loadTree(); });
  grade.addEventListener('change', () => { loadVolumes(); loadTree(); });
  edition.addEventListener('change', () => loadVolumes());
  volume.addEventListener('change', () => loadChapters());
  find.addEventListener('input', debounce(loadTree, 250));

  container.append(
    field(t('title'), title), field(t('kind'), kind), field(t('description'), description),
    h('fieldset', { class: 'taxonomy' }, h('legend', {}, `${t('subject')} → ${t('grade')} → ${t('edition')} → ${t('chapter')}`),
      h('div', { class: 'grid' }, field(t('subject'), subject), field(t('grade'), grade), field(t('edition'), edition),
        field(t('volume'), volume), field(t('chapter'), chapter))),
    h('fieldset', { class: 'points' }, h('legend', {}, t('points')), h('small', {}, t('points_hint')),
      h('div', { class: 'field' }, h('label', { for: 'kp-chosen' }, t('chosen')), chips), field(t('find_point'), find), tree),
    h('div', { class: 'grid' }, field(t('tags'), tags, t('tags_hint')), field(t('visibility'), visibility),
      field(t('license'), license)));
  chips.id = 'kp-chosen';
  drawChips();
  await Promise.all([loadVolumes(initial.volume), loadTree()]);

  return {
    title,
    values() {
      const body = {
        title: title.value.trim(), description: description.value.trim(), kind: kind.value,
        subject: subject.value || null, stage: stageOf() || null, grade: grade.value || null,
        edition: edition.value || null, volume: volume.value || null, chapter: chapter.value || null,
        knowledge_point_ids: [...chosen.keys()],
        tags: tags.value.split(/[,，、\s]+/).map((s) => s.trim()).filter(Boolean),
        visibility: visibility.value || 'school', license: license.value || 'CC-BY-NC-SA-4.0',
      };
      return body;
    },
  };
}

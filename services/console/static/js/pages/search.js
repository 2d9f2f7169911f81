// Search: a query box with suggestions as you type (titles and knowledge points, also from pinyin
// and its initials: GET /search/suggest), facets to narrow by, hits with their highlights. The
// query and filters live in the address (#/search?q=…&subject=…), so back and forward work.
import { h, highlighted, debounce } from '../dom.js';
import { labels } from '../labels.js';

export const strings = {
  zh: { title: '找资源', q: '搜索', placeholder: '标题、知识点，或拼音（如 couShiFa、csf）', go: '搜索', suggestions: '建议',
        facet_subject: '学科', facet_stage: '学段', facet_grade: '年级', facet_edition: '教材', facet_kind: '类型',
        facet_knowledge_point: '知识点', facet_volume: '册次', facet_chapter: '章节', facet_school: '学校',
        facet_license: '许可', facet_duration: '时长', clear: '清除筛选', remove: '去掉筛选：{name}',
        total: '找到 {total} 个资源', none: '没有找到。换个词，或去掉一些筛选试试。', understood: '已按“{value}”筛选',
        did_you_mean: '你是不是要找：', sort: '排序', sort_relevance: '相关度', sort_newest: '最新', sort_popular: '最多浏览',
        page: '第 {n} 页', page_hit: '（第 {n} 页）', kp: '知识点', views: '{n} 次浏览' },
  en: { title: 'Find resources', q: 'Search', placeholder: 'Title, knowledge point, or pinyin (e.g. coushifa, csf)', go: 'Search',
        suggestions: 'Suggestions', facet_subject: 'Subject', facet_stage: 'Stage', facet_grade: 'Grade', facet_edition: 'Edition',
        facet_kind: 'Kind', facet_knowledge_point: 'Knowledge point', facet_volume: 'Volume', facet_chapter: 'Chapter',
        facet_school: 'School', facet_license: 'Licence', facet_duration: 'Length', clear: 'Clear filters',
        remove: 'Remove filter: {name}', total: '{total} resources found', none: 'Nothing found. Try other words or fewer filters.',
        understood: 'Filtered by “{value}”', did_you_mean: 'Did you mean: ', sort: 'Sort', sort_relevance: 'Relevance',
        sort_newest: 'Newest', sort_popular: 'Most viewed', page: 'Page {n}', page_hit: '(page {n})', kp: 'Knowledge points',
        views: '{n} views' },
};

const FILTERS = ['subject', 'stage', 'grade', 'edition', 'volume', 'chapter', 'knowledge_point', 'kind', 'school', 'license', 'duration'];
const SORTS = ['relevance', 'newest', 'popular'];
const SIZE = 20;

export async function render(root, { api, t, query, navigate }) {
  const go = (changes) => {
    const next = { ...query, ...changes };
    for (const key of Object.keys(next)) if (next[key] === '' || next[key] == null) delete next[key];
    navigate(`#/search?${new URLSearchParams(next)}`);
  };

  // The query box: a combobox whose listbox holds the suggestions.
  const input = h('input', { type: 'search', id: 'q', name: 'q', value: query.q || '', placeholder: t('placeholder'),
    autocomplete: 'off', role: 'combobox', 'aria-expanded': 'false', 'aria-controls': 'suggestions', 'aria-autocomplete': 'list' });
  const list = h('ul', { id: 'suggestions', role: 'listbox', class: 'suggestions', hidden: true, 'aria-label': t('suggestions') });
  let active = -1;
  let suggestions = [];
  let asked = 0;
  function show(items) {
    suggestions = items;
    active = -1;
    list.replaceChildren(...items.map((s, i) => h('li', { role: 'option', id: `sugg-${i}`, 'aria-selected': 'false',
      dataset: { kind: s.kind }, onmousedown: (e) => { e.preventDefault(); choose(s); } },
      s.text, s.kind === 'knowledge_point' ? h('small', {}, ` · ${t('kp')}`) : null)));
    list.hidden = !items.length;
    input.setAttribute('aria-expanded', String(!list.hidden));
  }
  function choose(s) {
    show([]);
    if (s.kind === 'knowledge_point') go({ knowledge_point: s.id, q: '', page: 1 });
    else go({ q: s.text, page: 1 });
  }
  const suggest = debounce(async () => {
    const q = input.value.trim();
    const ticket = ++asked;
    if (!q) { show([]); return; }
    try {
      const answer = await api.get('/search/suggest', { q, limit: 8 });
      if (ticket === asked && document.activeElement === input) show(answer.suggestions);
    } catch { show([]); }
  }, 150);
  input.addEventListener('input', suggest);
  input.addEventListener('blur', () => show([]));
  input.addEventListener('keydown', (event) => {
    if (list.hidden) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      active = (active + (event.key === 'ArrowDown' ? 1 : -1) + suggestions.length) % suggestions.length;
      [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
      input.setAttribute('aria-activedescendant', `sugg-${active}`);
    } else if (event.key === 'Enter' && active >= 0) {
      event.preventDefault();
      choose(suggestions[active]);
    } else if (event.key === 'Escape') {
      show([]);
    }
  });
  const sort = h('select', { id: 'sort', onchange: () => go({ sort: sort.value, page: 1 }) },
    SORTS.map((s) => h('option', { value: s, selected: (query.sort || 'relevance') === s }, t(`sort_${s}`))));
  const form = h('form', { role: 'search', class: 'searchbar', onsubmit: (e) => { e.preventDefault(); show([]); go({ q: input.value.trim(), page: 1 }); } },
    h('label', { for: 'q', class: 'visually-hidden' }, t('q')), h('div', { class: 'combo' }, input, list),
    h('button', { type: 'submit', class: 'primary' }, t('go')),
    h('label', { for: 'sort' }, t('sort')), sort);
  root.append(h('h1', {}, t('title')), form);
  input.focus();

  const page = Number(query.page || 1);
  const params = { q: query.q, sort: query.sort, page, size: SIZE };
  for (const name of FILTERS) params[name] = query[name];
  const answer = await api.get('/search', params);

  // Chosen filters, each removable; then the facets.
  const labelOf = (name, value) => answer.facets[name]?.find((f) => f.value === value)?.label || value;
  const chosen = FILTERS.filter((name) => query[name]);
  const chips = h('ul', { class: 'chips chosen' }, chosen.map((name) => h('li', {},
    `${t(`facet_${name}`)}：${labelOf(name, query[name])}`,
    h('button', { type: 'button', class: 'chip-x', 'aria-label': t('remove', { name: labelOf(name, query[name]) }),
                  onclick: () => go({ [name]: '', page: 1 }) }, '×'))),
    chosen.length > 1 ? h('li', {}, h('button', { type: 'button', class: 'link',
      onclick: () => go(Object.fromEntries([...FILTERS.map((f) => [f, '']), ['page', 1]])) }, t('clear'))) : null);
  const facets = h('aside', { class: 'facets', 'aria-label': 'facets' }, Object.entries(answer.facets)
    .filter(([name, values]) => values.length && !query[name])
    .map(([name, values]) => h('section', { class: 'facet', dataset: { facet: name } }, h('h2', {}, t(`facet_${name}`)),
      h('ul', {}, values.slice(0, 12).map((v) => h('li', {}, h('a', { href: '#', onclick: (e) => { e.preventDefault(); go({ [name]: v.value, page: 1 }); } },
        name === 'kind' ? labels(`kind_${v.value}`) : v.label), h('small', {}, ` ${v.count}`)))))));

  const hits = h('ol', { class: 'hits', start: (page - 1) * SIZE + 1 }, answer.hits.map((hit) => h('li', { class: 'hit', dataset: { id: hit.id } },
    h('h3', {}, h('a', { href: `#/resources/${hit.id}` }, hit.highlight?.title ? highlighted(hit.highlight.title) : hit.title)),
    h('p', { class: 'hit-meta' }, [hit.kind ? labels(`kind_${hit.kind}`) : null, hit.school?.name,
      hit.knowledge_points.map((kp) => kp.name).join('、'), t('views', { n: hit.views })].filter(Boolean).join(' · ')),
    hit.highlight?.text ? h('p', { class: 'snippet' }, highlighted(hit.highlight.text),
      hit.highlight.page ? h('small', {}, ` ${t('page_hit', { n: hit.highlight.page })}`) : null) : null)));

  const notes = h('div', { class: 'notes' },
    Object.values(answer.understood || {}).map((value) => h('p', { class: 'muted' }, t('understood', { value }))),
    answer.did_you_mean ? h('p', {}, t('did_you_mean'), h('a', { href: '#', onclick: (e) => { e.preventDefault(); go({ q: answer.did_you_mean, page: 1 }); } },
      answer.did_you_mean)) : null);
  const pages = Math.max(1, Math.ceil(answer.total / SIZE));
  const pager = h('nav', { class: 'pager', 'aria-label': 'pages' },
    page > 1 ? h('a', { href: `#/search?${new URLSearchParams({ ...query, page: page - 1 })}` }, t('previous')) : null,
    h('span', {}, t('page_of', { page, pages })),
    page < pages ? h('a', { href: `#/search?${new URLSearchParams({ ...query, page: page + 1 })}` }, t('next')) : null);

  root.append(chips, notes, h('div', { class: 'search-layout' }, facets, h('section', { class: 'results', 'aria-live': 'polite' },
    h('p', { class: 'total' }, t('total', { total: answer.total })),
    answer.hits.length ? hits : h('p', { class: 'empty' }, t('none')), answer.hits.length ? pager : null)));
}

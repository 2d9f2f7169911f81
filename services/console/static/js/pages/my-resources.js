// My resources: what I (and my school) have, with status, processing progress and review reasons.
// Rows still processing are polled until they settle.
import { h } from '../dom.js';
import { labels, STATUSES } from '../labels.js';
import { formatDate } from '../i18n.js';

export const strings = {
  zh: { title: '我的资源', upload: '上传资源', filter: '状态', all: '全部', col_title: '标题', col_kind: '类型',
        col_status: '状态', col_created: '创建时间', empty: '还没有资源。', progress: '处理进度 {n}%',
        reason: '审核意见：{reason}', failure: '失败原因：{reason}', mine_only: '只看我的', waiting: '等待{level}审核' },
  en: { title: 'My resources', upload: 'Upload', filter: 'Status', all: 'All', col_title: 'Title', col_kind: 'Kind',
        col_status: 'Status', col_created: 'Created', empty: 'No resources yet.', progress: 'Processing {n}%',
        reason: 'Reviewer: {reason}', failure: 'Failed: {reason}', mine_only: 'Mine only', waiting: 'Awaiting {level} review' },
};

const POLL_MS = 3000;

export async function render(root, { api, t, query, navigate }) {
  const status = h('select', { id: 'status-filter' }, h('option', { value: '' }, t('all')),
    STATUSES.map((s) => h('option', { value: s, selected: query.status === s }, labels(`status_${s}`))));
  const mine = h('input', { type: 'checkbox', id: 'mine-only', checked: query.mine === 'true' });
  const apply = () => navigate(`#/my?${new URLSearchParams({ ...(status.value && { status: status.value }),
    ...(mine.checked && { mine: 'true' }), page: '1' })}`);
  status.addEventListener('change', apply);
  mine.addEventListener('change', apply);
  const page = Number(query.page || 1);
  const list = await api.get('/resources', { status: query.status, mine: query.mine, page, size: 20 });
  const details = new Map();
  const body = h('tbody');
  const rows = list.items.map((item) => {
    const state = h('td', { class: 'status' });
    const row = h('tr', { dataset: { id: item.id } },
      h('td', {}, h('a', { href: `#/resources/${item.id}` }, item.title)),
      h('td', {}, labels(`kind_${item.kind}`)), state, h('td', {}, formatDate(item.created_at)));
    return { item, row, state };
  });

  function drawState({ item, state }) {
    const detail = details.get(item.id) || item;
    const parts = [h('span', { class: `badge ${detail.status}` }, labels(`status_${detail.status}`))];
    if (detail.status === 'processing' || detail.status === 'uploading') {
      parts.push(h('progress', { max: 100, value: detail.progress ?? 0, 'aria-label': t('progress', { n: detail.progress ?? 0 }) }),
        h('small', {}, t('progress', { n: detail.progress ?? 0 })));
    }
    if (detail.failure_reason) parts.push(h('small', { class: 'reason' }, t('failure', { reason: detail.failure_reason })));
    const review = detail.review;
    if (review && (review.reason_code || review.note) && ['rejected', 'taken_down'].includes(detail.status)) {
      parts.push(h('small', { class: 'reason' }, t('reason', { reason: [review.reason_code, review.note].filter(Boolean).join(' — ') })));
    }
    state.replaceChildren(...parts);
  }

  // Details (progress, review) only for the rows that need them.
  const needy = (r) => ['processing', 'uploading', 'rejected', 'taken_down', 'failed'].includes((details.get(r.item.id) || r.item).status);
  async function load(subset) {
    await Promise.all(subset.map(async (r) => {
      try { details.set(r.item.id, await api.get(`/resources/${r.item.id}`)); } catch { /* shown as listed */ }
      drawState(r);
    }));
  }
  rows.forEach(drawState);
  body.append(...rows.map((r) => r.row));
  const pages = Math.max(1, Math.ceil(list.total / list.size));
  const pager = h('nav', { class: 'pager', 'aria-label': 'pages' },
    page > 1 ? h('a', { href: `#/my?${new URLSearchParams({ ...query, page: page - 1 })}` }, t('previous')) : null,
    h('span', {}, t('page_of', { page, pages })),
    page < pages ? h('a', { href: `#/my?${new URLSearchParams({ ...query, page: page + 1 })}` }, t('next')) : null);
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, t('title')), h('a', { class: 'button primary', href: '#/upload' }, t('upload'))),
    h('div', { class: 'filters' }, h('label', { for: 'status-filter' }, t('filter')), status,
      h('label', { class: 'check' }, mine, t('mine_only'))),
    list.items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('col_title')), h('th', { scope: 'col' }, t('col_kind')),
        h('th', { scope: 'col' }, t('col_status')), h('th', { scope: 'col' }, t('col_created')))), body))
      : h('p', { class: 'empty' }, t('empty')),
    h('p', { class: 'muted' }, t('total', { total: list.total })), pager);
  await load(rows.filter(needy));
  let timer = setInterval(async () => {
    const pending = rows.filter((r) => ['processing', 'uploading'].includes((details.get(r.item.id) || r.item).status));
    if (!pending.length) { clearInterval(timer); timer = null; return; }
    await load(pending);
  }, POLL_MS);
  return () => { if (timer) clearInterval(timer); };
}

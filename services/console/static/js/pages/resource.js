// A resource: its description, status and review, the lesson player (when it has video), the
// document preview (page images), and what its owner may do next (submit, edit, withdraw).
import { h } from '../dom.js';
import { formatBytes, formatDate } from '../i18n.js';
import { labels } from '../labels.js';
import { mountPlayer } from '../player.js';

export const strings = {
  zh: { status: '状态', kind: '类型', owner: '作者', school: '学校', points: '知识点', tags: '标签', visibility: '可见范围',
        license: '许可', files: '文件', preview: '文档预览', page: '第 {n} 页', pdf: '下载 PDF', more_pages: '共 {n} 页，仅预览前 {shown} 页',
        player: '课程视频', big_screen: '在教室大屏播放', submit: '提交审核', withdraw: '撤回', edit: '修改', delete: '删除',
        delete_confirm: '确定删除这个资源吗？', submitted: '已提交审核', review: '审核意见', progress: '处理进度 {n}%',
        failure: '处理失败：{reason}', report: '举报', report_reason: '举报原因', report_detail: '说明', reported: '举报已提交',
        reasons_copyright: '侵犯版权', reasons_factual_error: '内容错误', reasons_inappropriate: '内容不当',
        reasons_privacy: '泄露隐私', reasons_other: '其他', send: '提交', description: '简介', updated: '更新于 {at}',
        not_playable: '视频还在处理中。', waiting_level: '等待审核' },
  en: { status: 'Status', kind: 'Kind', owner: 'Author', school: 'School', points: 'Knowledge points', tags: 'Tags',
        visibility: 'Visible to', license: 'Licence', files: 'Files', preview: 'Document preview', page: 'Page {n}',
        pdf: 'Download PDF', more_pages: '{n} pages; the first {shown} are previewed', player: 'Lesson video',
        big_screen: 'Play on the classroom screen', submit: 'Submit for review', withdraw: 'Withdraw', edit: 'Edit',
        delete: 'Delete', delete_confirm: 'Delete this resource?', submitted: 'Submitted for review', review: 'Review',
        progress: 'Processing {n}%', failure: 'Processing failed: {reason}', report: 'Report', report_reason: 'Reason',
        report_detail: 'Details', reported: 'Report sent', reasons_copyright: 'Copyright', reasons_factual_error: 'Factual error',
        reasons_inappropriate: 'Inappropriate', reasons_privacy: 'Privacy', reasons_other: 'Other', send: 'Send',
        description: 'Description', updated: 'Updated {at}', not_playable: 'The video is still being processed.',
        waiting_level: 'Awaiting review' },
};

const POLL_MS = 3000;

export async function render(root, ctx) {
  const { api, t, params, query, user, navigate, showError, flash, refresh } = ctx;
  const resource = await api.get(`/resources/${params.id}`);
  const mine = resource.owner?.id === user.id;
  const hasVideo = resource.assets.some((a) => a.category === 'video');
  const hasDocument = resource.assets.some((a) => a.category === 'document');
  let player = null;
  let timer = null;

  const act = (label, handler, cls = '') => h('button', { type: 'button', class: cls, onclick: async () => {
    try { await handler(); } catch (error) { showError(error); }
  } }, label);
  const actions = h('div', { class: 'actions' });
  if (hasVideo) actions.append(h('a', { class: 'button primary', href: `#/classroom/${resource.id}` }, t('big_screen')));
  if (mine && ['draft', 'rejected'].includes(resource.status)) {
    actions.append(act(t('submit'), async () => {
      await api.post(`/resources/${resource.id}/submit`, {});
      flash(t('submitted'), 'ok', { next: true });
      refresh();
    }));
  }
  if (mine || user.roles.includes('district_admin') || user.roles.includes('school_admin')) {
    actions.append(h('a', { class: 'button', href: `#/resources/${resource.id}/edit` }, t('edit')));
  }
  if (mine && resource.status === 'pending_review') {
    actions.append(act(t('withdraw'), async () => { await api.post(`/resources/${resource.id}/withdraw`, {}); refresh(); }));
  }
  if (mine) {
    actions.append(act(t('delete'), async () => {
      if (!window.confirm(t('delete_confirm'))) return;
      await api.del(`/resources/${resource.id}`);
      navigate('#/my');
    }, 'danger'));
  }

  const stateLine = h('div', { class: 'state' }, h('span', { class: `badge ${resource.status}` }, labels(`status_${resource.status}`)));
  if (['processing', 'uploading'].includes(resource.status)) {
    stateLine.append(h('progress', { max: 100, value: resource.progress, 'aria-label': t('progress', { n: resource.progress }) }),
      h('small', {}, t('progress', { n: resource.progress })));
    timer = setTimeout(() => refresh(), POLL_MS);  // re-render until it settles
  }
  if (resource.failure_reason) stateLine.append(h('p', { class: 'reason' }, t('failure', { reason: resource.failure_reason })));
  const review = resource.review;
  const reviewBox = review && (review.reason_code || review.note)
    ? h('div', { class: `review ${review.status}` }, h('strong', {}, `${t('review')}：`),
      [review.reason_code, review.note].filter(Boolean).join(' — '), review.decided_at ? h('small', {}, ` ${formatDate(review.decided_at)}`) : null)
    : null;

  const meta = h('dl', { class: 'meta' },
    h('dt', {}, t('kind')), h('dd', {}, labels(`kind_${resource.kind}`)),
    h('dt', {}, t('owner')), h('dd', {}, resource.owner?.real_name || ''),
    h('dt', {}, t('school')), h('dd', {}, resource.school?.name || '—'),
    h('dt', {}, t('points')), h('dd', {}, resource.knowledge_points.length
      ? h('ul', { class: 'chips' }, resource.knowledge_points.map((kp) => h('li', {}, h('a', { href: `#/search?knowledge_point=${kp.id}` }, kp.name))))
      : '—'),
    h('dt', {}, t('tags')), h('dd', {}, resource.tags.join('、') || '—'),
    h('dt', {}, t('visibility')), h('dd', {}, labels(`visibility_${resource.visibility}`)),
    h('dt', {}, t('license')), h('dd', {}, resource.license),
    h('dt', {}, t('files')), h('dd', {}, h('ul', { class: 'files' }, resource.assets.map((a) => h('li', {},
      `${a.filename} · ${formatBytes(a.size)}${a.duration_s ? ` · ${Math.round(a.duration_s)} s` : ''}`)))));

  const playerBox = h('section', { class: 'player-box', 'aria-label': t('player') });
  const previewBox = h('section', { class: 'preview', 'aria-labelledby': 'preview-title' });

  const reportForm = h('details', { class: 'report' }, h('summary', {}, t('report')));
  const reason = h('select', { id: 'report-reason' }, ['copyright', 'factual_error', 'inappropriate', 'privacy', 'other']
    .map((r) => h('option', { value: r }, t(`reasons_${r}`))));
  const detail = h('textarea', { id: 'report-detail', maxlength: 2000 });
  reportForm.append(h('form', { onsubmit: async (event) => {
    event.preventDefault();
    try {
      await api.post(`/resources/${resource.id}/reports`, { reason: reason.value, detail: detail.value });
      reportForm.open = false;
      flash(t('reported'), 'ok');
    } catch (error) { showError(error); }
  } }, h('label', { for: 'report-reason' }, t('report_reason')), reason,
  h('label', { for: 'report-detail' }, t('report_detail')), detail, h('button', { type: 'submit' }, t('send'))));

  root.append(...[
    h('div', { class: 'page-head' }, h('h1', {}, resource.title), actions),
    stateLine, reviewBox,
    resource.description ? h('p', { class: 'description' }, resource.description) : null,
    h('div', { class: 'resource-layout' }, h('div', { class: 'resource-main' }, playerBox, previewBox), h('aside', {}, meta)),
    h('p', { class: 'muted' }, t('updated', { at: formatDate(resource.updated_at) })),
    mine ? null : reportForm].filter(Boolean));

  if (hasVideo) {
    try {
      player = await mountPlayer(playerBox, { api, resourceId: resource.id, start: query.t });
    } catch (error) {
      if (error.code === 'playback.not_ready') playerBox.append(h('p', { class: 'muted' }, t('not_playable')));
      else showError(error);
    }
  }
  if (hasDocument) {
    try {
      const preview = await api.get(`/resources/${resource.id}/preview`);
      previewBox.append(h('h2', { id: 'preview-title' }, t('preview')),
        h('p', {}, h('a', { href: preview.pdf_url, class: 'button' }, t('pdf')),
          preview.page_count > preview.pages.length ? h('small', {}, ` ${t('more_pages', { n: preview.page_count, shown: preview.pages.length })}`) : null),
        h('ol', { class: 'pages' }, preview.pages.map((p) => h('li', {},
          h('img', { src: p.image_url, alt: t('page', { n: p.number }), loading: p.number > 2 ? 'lazy' : 'eager', decoding: 'async' })))));
    } catch (error) {
      if (error.code !== 'resource.no_preview') showError(error);
    }
  }
  return () => { if (timer) clearTimeout(timer); player?.destroy(); };
}

// Upload: Uppy's Dashboard over tus to /api/v1/uploads/ (drag and drop, several files, progress,
// retries after a dropped connection; tus-js-client keeps each upload's URL in localStorage under
// the file's fingerprint, so adding the same file again after a closed tab resumes where it
// stopped). Finished uploads wait in localStorage until a resource is described with them.
import { h } from '../dom.js';
import { formatBytes } from '../i18n.js';
import { describeForm } from '../describe.js';

export const strings = {
  zh: { title: '上传资源', step1: '1. 选择文件', step2: '2. 描述资源', uploaded: '已上传、待描述的文件',
        hint: '可拖放多个文件（视频、课件、文档）。网络中断会自动续传；关闭页面后重新选择同一文件，会从中断处继续。',
        create: '创建资源', creating: '正在创建…', none_yet: '先上传至少一个文件，或直接创建没有文件的资源。',
        forget: '不用这个文件', created: '资源已创建，正在处理。', failed: '上传失败：{name} — {reason}',
        gone: '（服务器上已不存在）' },
  en: { title: 'Upload', step1: '1. Choose files', step2: '2. Describe the resource', uploaded: 'Uploaded files waiting for a description',
        hint: 'Drop several files (video, slides, documents). A dropped connection resumes by itself; after closing the page, add the same file again to continue where it stopped.',
        create: 'Create resource', creating: 'Creating…', none_yet: 'Upload at least one file first, or create a resource without files.',
        forget: 'Do not use this file', created: 'Resource created; it is being processed.', failed: 'Upload failed: {name} — {reason}',
        gone: '(no longer on the server)' },
};

const CHUNK = 8 * 1024 * 1024;

function doneKey(user) { return `lb.uploads.${user.id}`; }
function readDone(user) { try { return JSON.parse(localStorage.getItem(doneKey(user)) || '[]'); } catch { return []; } }
function writeDone(user, items) { localStorage.setItem(doneKey(user), JSON.stringify(items)); }

/** The problem details of a failed tus request, when the server sent them. */
function tusProblem(error) {
  try {
    const body = error?.originalResponse?.getBody?.();
    const problem = body && JSON.parse(body);
    if (problem?.code) return `${problem.detail || problem.title} [${problem.code}]`;
  } catch { /* not JSON */ }
  return error?.message || String(error);
}

export async function render(root, ctx) {
  const { api, t, user, lang, useStylesheet, showError, flash, navigate } = ctx;
  useStylesheet('vendor/uppy/core.min.css');
  useStylesheet('vendor/uppy/dashboard.min.css');
  const [{ Uppy, Dashboard, Tus }, locale] = await Promise.all([
    import('../../vendor/uppy/uppy.min.mjs'),
    lang === 'zh' ? import('../../vendor/uppy/zh_CN.js') : import('../../vendor/uppy/en_US.js'),
  ]);

  const dashboard = h('div', { id: 'uppy-dashboard' });
  const doneList = h('ul', { class: 'uploaded', 'aria-live': 'polite' });
  const formBox = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, t('create'));
  const form = h('form', { class: 'card', 'aria-labelledby': 'step2' }, h('h2', { id: 'step2' }, t('step2')), formBox, submit);
  root.append(h('h1', {}, t('title')),
    h('section', { class: 'card', 'aria-labelledby': 'step1' }, h('h2', { id: 'step1' }, t('step1')),
      h('p', { class: 'muted' }, t('hint')), dashboard,
      h('h3', {}, t('uploaded')), doneList, h('p', { class: 'muted none-yet' }, t('none_yet'))),
    form);

  let done = readDone(user);
  function drawDone() {
    doneList.replaceChildren(...done.map((item) => h('li', { dataset: { uploadId: item.id } },
      h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: item.use !== false,
        onchange: (e) => { item.use = e.target.checked; writeDone(user, done); } }),
      `${item.filename} (${formatBytes(item.size)})`),
      h('button', { type: 'button', class: 'link', onclick: () => { done = done.filter((d) => d !== item); writeDone(user, done); drawDone(); } },
        t('forget')))));
    root.querySelector('.none-yet').hidden = done.length > 0;
  }
  // Uploads finished in an earlier visit: still on the server?
  await Promise.all(done.map(async (item) => {
    try { const info = await api.get(`/uploads/${item.id}`); item.gone = info.status !== 'complete'; } catch { item.gone = true; }
  }));
  done = done.filter((item) => !item.gone);
  writeDone(user, done);
  drawDone();

  const uppy = new Uppy({ id: 'lb-upload', autoProceed: true, locale: locale.default,
                          restrictions: { maxNumberOfFiles: 20 } })
    .use(Dashboard, { inline: true, target: dashboard, height: 320, width: '100%', showProgressDetails: true,
                      proudlyDisplayPoweredByUppy: false, hideUploadButton: true, theme: 'light' })
    .use(Tus, { endpoint: `${location.origin}${api.base}/uploads/`, headers: () => api.authHeaders(),
                chunkSize: CHUNK, retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
                storeFingerprintForResuming: true, removeFingerprintOnSuccess: true,
                allowedMetaFields: ['name', 'type'], limit: 3 });
  uppy.on('upload-success', (file, response) => {
    const id = response.uploadURL.replace(/\/+$/, '').split('/').pop();
    done = [...done.filter((d) => d.id !== id), { id, filename: file.name, size: file.size }];
    writeDone(user, done);
    drawDone();
  });
  uppy.on('upload-error', (file, error) => flash(t('failed', { name: file?.name, reason: tusProblem(error) }), 'error'));
  window.lbUppy = uppy;  // for the tests: the files and their progress

  const described = await describeForm(formBox, { api });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    submit.textContent = t('creating');
    try {
      const using = done.filter((d) => d.use !== false);
      const created = await api.post('/resources', { ...described.values(), upload_ids: using.map((d) => d.id) });
      done = done.filter((d) => !using.includes(d));
      writeDone(user, done);
      uppy.clear?.();
      flash(t('created'), 'ok', { next: true });
      navigate(`#/resources/${created.id}`);
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
      submit.textContent = t('create');
    }
  });
  return () => { window.lbUppy = undefined; uppy.destroy(); };
}

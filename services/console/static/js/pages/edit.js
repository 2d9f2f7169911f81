// Editing a resource's description (PATCH /resources/{id}: on a published resource the API turns
// a change into a revision awaiting review; the console only sends what changed).
import { h } from '../dom.js';
import { describeForm } from '../describe.js';

export const strings = {
  zh: { title: '修改资源', save: '保存修改', saving: '正在保存…', saved: '已保存', back: '返回', nothing: '没有改动' },
  en: { title: 'Edit resource', save: 'Save changes', saving: 'Saving…', saved: 'Saved', back: 'Back', nothing: 'Nothing changed' },
};

export async function render(root, { api, t, params, navigate, showError, flash }) {
  const resource = await api.get(`/resources/${params.id}`);
  const box = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, t('save'));
  const form = h('form', { class: 'card' }, box, submit, ' ', h('a', { href: `#/resources/${resource.id}` }, t('back')));
  root.append(h('h1', {}, t('title')), form);
  const described = await describeForm(box, { api, initial: resource });
  const before = described.values();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const after = described.values();
    const changes = Object.fromEntries(Object.entries(after).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(before[key])));
    if (!Object.keys(changes).length) { flash(t('nothing')); return; }
    submit.disabled = true;
    submit.textContent = t('saving');
    try {
      await api.patch(`/resources/${resource.id}`, changes);
      flash(t('saved'), 'ok', { next: true });
      navigate(`#/resources/${resource.id}`);
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
      submit.textContent = t('save');
    }
  });
}

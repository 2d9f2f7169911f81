// Sign in with a username and password (POST /auth/token, then GET /me).
import { h, field } from '../dom.js';

export const strings = {
  zh: { title: '登录', username: '用户名', password: '密码', submit: '登录', busy: '正在登录…',
        intro: '教师、审核员和管理员用各自的账号登录。' },
  en: { title: 'Sign in', username: 'Username', password: 'Password', submit: 'Sign in', busy: 'Signing in…',
        intro: 'Teachers, moderators and administrators sign in with their own accounts.' },
};

export async function render(root, { api, t, navigate, showError, signedIn, after }) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('submit'));
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, t('title')), h('p', {}, t('intro')),
    field(t('username'), username), field(t('password'), password), submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = t('busy');
    try {
      signedIn(await api.signIn(username.value.trim(), password.value));
      navigate(after());
    } catch (error) {
      showError(error);
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = t('submit');
    }
  });
  root.append(form);
  username.focus();
}

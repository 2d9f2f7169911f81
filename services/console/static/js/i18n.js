// Chinese first, English second. Each page module brings its own strings, {zh: {...}, en: {...}};
// `translator(strings)` gives t(key, values) for the chosen language, falling back to Chinese,
// then to the shared strings below, then to the key itself.
const KEY = 'lb.lang';
export const LANGUAGES = ['zh', 'en'];

const COMMON = {
  zh: {
    loading: '加载中…', error: '出错了', retry: '重试', save: '保存', cancel: '取消', close: '关闭',
    next: '下一页', previous: '上一页', none: '无', page_of: '第 {page} 页，共 {pages} 页',
    total: '共 {total} 条', not_found: '没有这个页面', network: '连不上服务器，请检查网络后重试',
  },
  en: {
    loading: 'Loading…', error: 'Something went wrong', retry: 'Retry', save: 'Save', cancel: 'Cancel',
    close: 'Close', next: 'Next', previous: 'Previous', none: 'None', page_of: 'Page {page} of {pages}',
    total: '{total} in all', not_found: 'No such page', network: 'Cannot reach the server; check the network and retry',
  },
};

export function language() {
  const chosen = localStorage.getItem(KEY);
  return LANGUAGES.includes(chosen) ? chosen : 'zh';
}

export function setLanguage(lang) {
  localStorage.setItem(KEY, LANGUAGES.includes(lang) ? lang : 'zh');
  document.documentElement.lang = language() === 'zh' ? 'zh-CN' : 'en';
}

/** The Accept-Language the API gets: the chosen UI language. */
export function acceptLanguage() {
  return language() === 'zh' ? 'zh-CN' : 'en';
}

function fill(text, values) {
  return values ? text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m)) : text;
}

export function translator(strings = {}) {
  return (key, values) => {
    const lang = language();
    const text = strings[lang]?.[key] ?? strings.zh?.[key] ?? COMMON[lang][key] ?? COMMON.zh[key] ?? key;
    return fill(text, values);
  };
}

/** Numbers and dates in the UI language. */
export function formatDate(value) {
  if (!value) return '';
  return new Date(value).toLocaleString(acceptLanguage(), { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatBytes(n) {
  if (n == null) return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

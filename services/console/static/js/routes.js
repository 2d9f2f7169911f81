// The route table: one line per page, `'#/path': () => import('./pages/page.js')`; `:name` parts
// become ctx.params.name. Add lines; do not reorder. The first matching pattern wins.
export const ROUTES = {
  '#/signin': () => import('./pages/signin.js'),
  '#/upload': () => import('./pages/upload.js'),
  '#/search': () => import('./pages/search.js'),
  '#/resources/:id/edit': () => import('./pages/edit.js'),
  '#/resources/:id': () => import('./pages/resource.js'),
  '#/classroom': () => import('./pages/classroom.js'),
  '#/classroom/:id': () => import('./pages/classroom.js'),
  '#/my': () => import('./pages/my-resources.js'),
};

// The navigation bar: one line per entry, shown to users holding one of `roles` (empty: everyone
// signed in), in `order` (default 100). The home page after signing in is the first entry the user may see.
export const NAV = [
  { hash: '#/upload', order: 110, roles: ['teacher', 'school_admin'], label: { zh: '上传', en: 'Upload' } },
  { hash: '#/search', order: 120, roles: [], label: { zh: '找资源', en: 'Search' } },
  { hash: '#/classroom', order: 130, roles: ['teacher', 'school_admin'], label: { zh: '课堂大屏', en: 'Classroom screen' } },
  { hash: '#/my', roles: ['teacher', 'school_admin'], label: { zh: '我的资源', en: 'My resources' } },
];

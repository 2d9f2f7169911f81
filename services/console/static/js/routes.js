// The route table: one line per page, `'#/path': () => import('./pages/page.js')`; `:name` parts
// become ctx.params.name. Add lines; do not reorder. The first matching pattern wins.
export const ROUTES = {
  '#/signin': () => import('./pages/signin.js'),
  '#/my': () => import('./pages/my-resources.js'),
};

// The navigation bar: one line per entry, shown to users holding one of `roles` (empty: everyone
// signed in). The home page after signing in is the first entry the user may see.
export const NAV = [
  { hash: '#/my', roles: ['teacher', 'school_admin'], label: { zh: '我的资源', en: 'My resources' } },
];

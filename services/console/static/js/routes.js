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
  '#/review': () => import('./pages/moderation-queue.js'),
  '#/reports': () => import('./pages/moderation-reports.js'),
  '#/takedowns': () => import('./pages/moderation-takedowns.js'),
  '#/admin/schools': () => import('./pages/admin-schools.js'),
  '#/admin/users': () => import('./pages/admin-users.js'),
  '#/admin/devices': () => import('./pages/admin-devices.js'),
  '#/admin/pairings': () => import('./pages/admin-pairings.js'),
  '#/admin/stats': () => import('./pages/admin-stats.js'),
};

// The navigation bar: one line per entry, shown to users holding one of `roles` (empty: everyone
// signed in), in `order` (default 100). The home page after signing in is the first entry the user may see.
export const NAV = [
  { hash: '#/upload', order: 110, roles: ['teacher', 'school_admin'], label: { zh: '上传', en: 'Upload' } },
  { hash: '#/search', order: 120, roles: [], label: { zh: '找资源', en: 'Search' } },
  { hash: '#/classroom', order: 130, roles: ['teacher', 'school_admin'], label: { zh: '课堂大屏', en: 'Classroom screen' } },
  { hash: '#/my', roles: ['teacher', 'school_admin'], label: { zh: '我的资源', en: 'My resources' } },
  { hash: '#/admin/stats', roles: ['district_admin'], label: { zh: '统计', en: 'Statistics' } },
  { hash: '#/review', roles: ['moderator', 'school_reviewer', 'district_admin'], label: { zh: '审核队列', en: 'Review' } },
  { hash: '#/reports', roles: ['moderator', 'district_admin'], label: { zh: '举报', en: 'Reports' } },
  { hash: '#/takedowns', roles: ['moderator', 'district_admin'], label: { zh: '下架', en: 'Take-downs' } },
  { hash: '#/admin/schools', roles: ['district_admin'], label: { zh: '学校', en: 'Schools' } },
  { hash: '#/admin/users', roles: ['district_admin', 'school_admin'], label: { zh: '用户', en: 'Users' } },
  { hash: '#/admin/devices', roles: ['district_admin', 'school_admin'], label: { zh: '录播设备', en: 'Devices' } },
  { hash: '#/admin/pairings', roles: ['district_admin'], label: { zh: '结对', en: 'Pairings' } },
];

// Real-name accounts (GET/POST /users, PATCH /users/{id}): create one with roles and a school;
// change a name, roles, an initial password, or switch an account off. Which roles a caller may
// grant is the API's rule: a refusal comes back as a problem and is shown as it is.
import { allPages, call, ensureStyle, field, h, select, statusLine, table, translator, when, pageLang } from "./staff-kit.js";

const ROLES = ["teacher", "school_admin", "school_reviewer", "moderator", "district_admin"];

export const strings = {
  zh: {
    title: "用户管理", username: "登录名", real_name: "真实姓名", password: "初始密码", password_new: "重设密码（留空不改）",
    email: "邮箱（可选）", roles: "角色", school: "学校", no_school: "（区县账号，不属于学校）", active: "启用",
    create: "新建用户", editing: "编辑用户：{name}", save: "保存", cancel: "取消", edit: "编辑", created: "已创建用户：{name}",
    saved: "已保存：{name}", actions: "操作", yes: "是", no: "否（已停用）", created_at: "创建时间", count: "共 {n} 个用户",
    r_teacher: "教师", r_school_admin: "学校管理员", r_school_reviewer: "校级审核员", r_moderator: "审核员",
    r_district_admin: "区县管理员", r_platform_admin: "平台管理员", r_city_admin: "市级管理员", r_province_admin: "省级管理员",
  },
  en: {
    title: "Users", username: "Username", real_name: "Real name", password: "Initial password", password_new: "New password (blank: unchanged)",
    email: "Email (optional)", roles: "Roles", school: "School", no_school: "(district account, no school)", active: "Active",
    create: "Add user", editing: "Edit user: {name}", save: "Save", cancel: "Cancel", edit: "Edit", created: "User added: {name}",
    saved: "Saved: {name}", actions: "Actions", yes: "yes", no: "no (switched off)", created_at: "Created", count: "{n} users",
    r_teacher: "teacher", r_school_admin: "school administrator", r_school_reviewer: "school reviewer", r_moderator: "moderator",
    r_district_admin: "district administrator", r_platform_admin: "platform administrator", r_city_admin: "city administrator",
    r_province_admin: "province administrator",
  },
};

export async function render(root, ctx) {
  ensureStyle();
  const t = ctx.t || translator(ctx, strings);
  const lang = pageLang(ctx);
  const status = statusLine();
  const list = h("div", { id: "users-list" });
  const counter = h("p", { class: "sk-muted" });
  let schools = [];
  let editing = null;

  const username = h("input", { name: "username", required: true, id: "user-username", autocomplete: "off" });
  const realName = h("input", { name: "real_name", required: true, maxlength: 64, id: "user-real-name" });
  const password = h("input", { name: "password", type: "password", required: true, minlength: 8, id: "user-password", autocomplete: "new-password" });
  const passwordLabel = h("span", {}, t("password"));
  const email = h("input", { name: "email", type: "email", id: "user-email" });
  const school = h("select", { name: "school_id", id: "user-school" });
  const active = h("input", { type: "checkbox", checked: true, id: "user-active" });
  const roleBoxes = ROLES.map((role) => h("label", {}, h("input", { type: "checkbox", name: "roles", value: role, checked: role === "teacher" }), " ", t(`r_${role}`)));
  const heading = h("h2", { id: "user-form-h" }, t("create"));
  const cancel = h("button", { type: "button", hidden: true, onclick: () => reset() }, t("cancel"));
  const activeField = h("label", { class: "sk-field", hidden: true }, h("span", {}, t("active")), active);
  const form = h("form", { class: "sk-form", id: "user-form", "aria-labelledby": "user-form-h" },
    field(t("username"), username), field(t("real_name"), realName),
    h("label", { class: "sk-field" }, passwordLabel, password), field(t("email"), email), field(t("school"), school), activeField,
    h("fieldset", {}, h("legend", {}, t("roles")), h("div", { class: "sk-row" }, roleBoxes)),
    h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("save")), cancel));
  root.replaceChildren(h("div", { class: "sk-page", id: "admin-users" }, h("h1", {}, t("title")), heading, form, status, counter, list));

  function chosenRoles() {
    return roleBoxes.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => box.value);
  }

  function reset() {
    editing = null;
    form.reset();
    username.disabled = false;
    email.disabled = false;
    school.disabled = false;
    password.required = true;
    passwordLabel.textContent = t("password");
    activeField.hidden = true;
    heading.textContent = t("create");
    cancel.hidden = true;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (editing) {
        const body = { real_name: realName.value, roles: chosenRoles(), is_active: active.checked };
        if (password.value) body.password = password.value;
        const user = await call(ctx, "PATCH", `/users/${editing.id}`, { json: body });
        status.show(t("saved", { name: user.real_name }), "ok");
      } else {
        const user = await call(ctx, "POST", "/users", { json: {
          username: username.value, real_name: realName.value, password: password.value, roles: chosenRoles(),
          school_id: school.value || null, email: email.value || null,
        } });
        status.show(t("created", { name: user.real_name }), "ok");
      }
      reset();
      await load();
    } catch (error) { status.fail(error); }
  });

  function edit(user) {
    editing = user;
    username.value = user.username;
    username.disabled = true;
    realName.value = user.real_name;
    email.value = user.email || "";
    email.disabled = true;
    school.value = user.school_id || "";
    school.disabled = true;
    password.value = "";
    password.required = false;
    passwordLabel.textContent = t("password_new");
    active.checked = user.is_active;
    activeField.hidden = false;
    for (const label of roleBoxes) {
      const box = label.querySelector("input");
      box.checked = user.roles.includes(box.value);
    }
    heading.textContent = t("editing", { name: user.real_name });
    cancel.hidden = false;
    realName.focus();
  }

  async function load() {
    try {
      schools = await allPages(ctx, "/schools");
      const chosen = school.value;
      school.replaceChildren(h("option", { value: "" }, t("no_school")), ...schools.map((s) => h("option", { value: s.id }, s.name)));
      school.value = chosen;
      const names = Object.fromEntries(schools.map((s) => [s.id, s.name]));
      const users = await allPages(ctx, "/users");
      counter.textContent = t("count", { n: users.length });
      list.replaceChildren(table([
        { label: t("real_name"), cell: (u) => u.real_name },
        { label: t("username"), cell: (u) => h("code", {}, u.username) },
        { label: t("roles"), cell: (u) => u.roles.map((r) => t(`r_${r}`)).join("、") },
        { label: t("school"), cell: (u) => names[u.school_id] || "—" },
        { label: t("active"), cell: (u) => (u.is_active ? t("yes") : t("no")) },
        { label: t("created_at"), cell: (u) => when(u.created_at, lang) },
        { label: t("actions"), cell: (u) => h("button", { type: "button", onclick: () => edit(u), "aria-label": `${t("edit")} ${u.real_name}` }, t("edit")) },
      ], users, { caption: t("title") }));
    } catch (error) { status.fail(error); }
  }

  await load();
}

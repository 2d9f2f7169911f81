// The district's schools (GET/POST /schools, PATCH /schools/{id}): name, kind and the link's
// bandwidth (what the player starts on). The API checks the values and who may change them.
import { allPages, call, ensureStyle, field, h, select, statusLine, table, translator } from "./staff-kit.js";

export const KINDS = ["urban", "town", "rural", "teaching_point"];

export const strings = {
  zh: {
    title: "学校管理", name: "校名", kind: "类型", bandwidth: "出口带宽（kbit/s）", bandwidth_hint: "至少 256；8 Mbit/s 填 8000",
    create: "新建学校", edit: "编辑", editing: "编辑学校：{name}", save: "保存", cancel: "取消", created: "已创建学校：{name}",
    saved: "已保存：{name}", actions: "操作", k_urban: "城区学校", k_town: "乡镇学校", k_rural: "村小", k_teaching_point: "教学点",
    count: "共 {n} 所学校", id: "编号",
  },
  en: {
    title: "Schools", name: "Name", kind: "Kind", bandwidth: "Link (kbit/s)", bandwidth_hint: "at least 256; 8 Mbit/s is 8000",
    create: "Add school", edit: "Edit", editing: "Edit school: {name}", save: "Save", cancel: "Cancel", created: "School added: {name}",
    saved: "Saved: {name}", actions: "Actions", k_urban: "urban", k_town: "town", k_rural: "rural (village)", k_teaching_point: "teaching point",
    count: "{n} schools", id: "Id",
  },
};

export async function render(root, ctx) {
  ensureStyle();
  const t = ctx.t || translator(ctx, strings);
  const status = statusLine();
  const list = h("div", { id: "schools-list" });
  const counter = h("p", { class: "sk-muted" });
  let editing = null;

  const name = h("input", { name: "name", required: true, maxlength: 100, id: "school-name" });
  const kind = select("kind", KINDS.map((k) => [k, t(`k_${k}`)]), "urban", { id: "school-kind" });
  const bandwidth = h("input", { name: "bandwidth_kbps", type: "number", min: 256, required: true, value: "20000", id: "school-bandwidth" });
  const heading = h("h2", { id: "school-form-h" }, t("create"));
  const cancel = h("button", { type: "button", hidden: true, onclick: () => reset() }, t("cancel"));
  const form = h("form", { class: "sk-form", id: "school-form", "aria-labelledby": "school-form-h" },
    field(t("name"), name), field(t("kind"), kind), field(t("bandwidth"), bandwidth, t("bandwidth_hint")),
    h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("save")), cancel));
  root.replaceChildren(h("div", { class: "sk-page", id: "admin-schools" }, h("h1", {}, t("title")), heading, form, status, counter, list));

  function reset() {
    editing = null;
    form.reset();
    bandwidth.value = "20000";
    heading.textContent = t("create");
    cancel.hidden = true;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value, kind: kind.value, bandwidth_kbps: Number(bandwidth.value) };
    try {
      if (editing) {
        const school = await call(ctx, "PATCH", `/schools/${editing.id}`, { json: body });
        status.show(t("saved", { name: school.name }), "ok");
      } else {
        const school = await call(ctx, "POST", "/schools", { json: body });
        status.show(t("created", { name: school.name }), "ok");
      }
      reset();
      await load();
    } catch (error) { status.fail(error); }
  });

  function edit(school) {
    editing = school;
    name.value = school.name;
    kind.value = school.kind;
    bandwidth.value = String(school.bandwidth_kbps);
    heading.textContent = t("editing", { name: school.name });
    cancel.hidden = false;
    name.focus();
  }

  async function load() {
    try {
      const schools = await allPages(ctx, "/schools");
      counter.textContent = t("count", { n: schools.length });
      list.replaceChildren(table([
        { label: t("name"), cell: (s) => s.name },
        { label: t("kind"), cell: (s) => t(`k_${s.kind}`) },
        { label: t("bandwidth"), cell: (s) => s.bandwidth_kbps.toLocaleString() },
        { label: t("id"), cell: (s) => h("code", {}, s.id) },
        { label: t("actions"), cell: (s) => h("button", { type: "button", onclick: () => edit(s), "aria-label": `${t("edit")} ${s.name}` }, t("edit")) },
      ], schools, { caption: t("title") }));
    } catch (error) { status.fail(error); }
  }

  await load();
}

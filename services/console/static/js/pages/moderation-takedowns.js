// Take-downs (下架) and restores: find a published resource with the district's search, take
// it down with a reason; look a resource up by id to restore it. District administrators also
// see the district's recent take-downs from the audit trail (GET /audit is theirs alone).
import { call, ensureStyle, field, h, hasRole, pageLang, select, statusLine, table, translator, when } from "./staff-kit.js";
import { labels } from "../labels.js";
import { REASONS, strings as QUEUE_STRINGS } from "./moderation-queue.js";

export const strings = {
  zh: {
    title: "下架与恢复", search: "查找已发布资源", q: "关键词", find: "搜索", no_hits: "没有找到资源。",
    res_title: "标题", subject: "学科", school: "学校", reason: "下架原因", note: "说明", take_down: "下架",
    taken_down: "已下架：{title}", restore_h: "恢复已下架的资源", resource_id: "资源编号", look_up: "查询",
    status: "状态", restore: "恢复上架", restored: "已恢复：{title}", not_taken_down: "该资源当前状态为 {status}，无需恢复。",
    recent: "最近的下架记录（审计日志）", field: "项目", value: "内容", who: "操作人", at: "时间", target: "资源", details: "说明",
  },
  en: {
    title: "Take-downs and restores", search: "Find a published resource", q: "Words", find: "Search", no_hits: "Nothing found.",
    res_title: "Title", subject: "Subject", school: "School", reason: "Reason", note: "Note", take_down: "Take down",
    taken_down: "Taken down: {title}", restore_h: "Restore a taken-down resource", resource_id: "Resource id", look_up: "Look up",
    status: "Status", restore: "Restore", restored: "Restored: {title}", not_taken_down: "This resource is {status}; nothing to restore.",
    recent: "Recent take-downs (audit trail)", field: "Field", value: "Value", who: "By", at: "When", target: "Resource", details: "Details",
  },
};

export async function render(root, ctx) {
  ensureStyle();
  const t = ctx.t || translator(ctx, strings);
  const tq = translator(ctx, QUEUE_STRINGS);
  const lang = pageLang(ctx);
  const status = statusLine();
  const q = h("input", { type: "search", name: "q", id: "takedown-q", required: true });
  const hits = h("div", { id: "takedown-hits" });
  const searchForm = h("form", { class: "sk-form", role: "search" }, field(t("q"), q),
    h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("find"))));
  const resourceId = h("input", { type: "text", name: "resource_id", id: "restore-id", required: true, maxlength: 26 });
  const restoreOut = h("div", { id: "restore-result" });
  const restoreForm = h("form", { class: "sk-form" }, field(t("resource_id"), resourceId),
    h("div", { class: "sk-actions" }, h("button", { type: "submit" }, t("look_up"))));
  const recent = h("section", { id: "takedown-recent" });
  root.replaceChildren(h("div", { class: "sk-page", id: "moderation-takedowns" }, h("h1", {}, t("title")), status,
    h("h2", {}, t("search")), searchForm, hits, h("h2", {}, t("restore_h")), restoreForm, restoreOut, recent));

  function reasonPicker(id) {
    return select("reason_code", REASONS.map((code) => [code, tq(`r_${code}`)]), "inappropriate", { id, required: true });
  }

  searchForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const reply = await call(ctx, "GET", "/search", { query: { q: q.value, size: 20 } });
      if (!reply.hits.length) { hits.replaceChildren(h("p", {}, t("no_hits"))); return; }
      hits.replaceChildren(table([
        { label: t("res_title"), cell: (hit) => hit.title },
        { label: t("subject"), cell: (hit) => hit.subject || "—" },
        { label: t("school"), cell: (hit) => (hit.school && (hit.school.name || hit.school)) || "—" },
        { label: t("take_down"), cell: (hit) => takeDownForm(hit) },
      ], reply.hits));
    } catch (error) { status.fail(error); }
  });

  function takeDownForm(hit) {
    const reason = reasonPicker(`takedown-reason-${hit.id}`);
    const note = h("input", { type: "text", maxlength: 2000, "aria-label": t("note") });
    const form = h("form", { class: "sk-row", dataset: { resourceId: hit.id } },
      h("label", { class: "sk-field" }, t("reason"), reason), h("label", { class: "sk-field" }, t("note"), note),
      h("button", { type: "submit", class: "sk-danger" }, t("take_down")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await call(ctx, "POST", `/moderation/resources/${hit.id}/decision`,
          { json: { action: "take_down", reason_code: reason.value, note: note.value } });
        status.show(t("taken_down", { title: hit.title }), "ok");
        form.replaceChildren(t("taken_down", { title: hit.title }));
        await loadRecent();
      } catch (error) { status.fail(error); }
    });
    return form;
  }

  restoreForm.addEventListener("submit", (event) => { event.preventDefault(); lookUp(); });

  async function lookUp() {
    try {
      const resource = await call(ctx, "GET", `/resources/${encodeURIComponent(resourceId.value.trim())}`);
      const rows = [[t("res_title"), resource.title], [t("status"), labels(`status_${resource.status}`)],
        [t("school"), resource.school ? resource.school.name : "—"]];
      const out = [table([{ label: t("field"), cell: (r) => r[0] }, { label: t("value"), cell: (r) => r[1] }], rows)];
      if (resource.status === "taken_down") {
        const note = h("input", { type: "text", maxlength: 2000 });
        const form = h("form", { class: "sk-row" }, h("label", { class: "sk-field" }, t("note"), note),
          h("button", { type: "submit", class: "sk-primary" }, t("restore")));
        form.addEventListener("submit", async (submit) => {
          submit.preventDefault();
          try {
            await call(ctx, "POST", `/moderation/resources/${resource.id}/decision`, { json: { action: "restore", note: note.value } });
            await lookUp();
            status.show(t("restored", { title: resource.title }), "ok");
          } catch (error) { status.fail(error); }
        });
        out.push(form);
      } else {
        out.push(h("p", {}, t("not_taken_down", { status: labels(`status_${resource.status}`) })));
      }
      restoreOut.replaceChildren(...out);
    } catch (error) { status.fail(error); }
  }

  async function loadRecent() {
    if (!hasRole(ctx, "district_admin")) return;
    try {
      const reply = await call(ctx, "GET", "/audit", { query: { action: "moderation.take_down", page: 1, size: 20 } });
      recent.replaceChildren(h("h2", {}, t("recent")), table([
        { label: t("at"), cell: (e) => when(e.created_at || e.at, lang) },
        { label: t("who"), cell: (e) => e.actor_id || "—" },
        { label: t("target"), cell: (e) => e.target_id || "—" },
        { label: t("details"), cell: (e) => e.details ? Object.entries(e.details).map(([k, v]) => `${k}: ${v}`).join("; ") : "—" },
      ], reply.items));
    } catch (error) { status.fail(error); }
  }

  await loadRecent();
}

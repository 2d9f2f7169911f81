// Users' reports (举报), grouped by resource (GET /moderation/reports): uphold (taking the
// resource down, by default for the reason most reports gave) or dismiss, with a note.
import { call, ensureStyle, h, pageLang, statusLine, table, translator, when, select, field } from "./staff-kit.js";
import { labels } from "../labels.js";
import { REASONS, strings as QUEUE_STRINGS } from "./moderation-queue.js";

export const strings = {
  zh: {
    title: "用户举报", outcome: "处理结果", empty: "没有待处理的举报。", count: "{n} 个资源被举报", reports: "{n} 条举报，{m} 位举报人",
    first: "首次举报 {when}", last: "最近 {when}", reason: "原因", detail: "说明", at: "时间",
    uphold: "举报属实", dismiss: "驳回举报", take_down: "同时下架该资源", take_down_reason: "下架原因",
    by_reports: "按举报最多的原因", note: "处理说明", resolve: "提交处理", resolved: "已处理：{title}（{outcome}）",
    upheld: "属实", dismissed: "不属实", status: "资源状态", rp_copyright: "侵权", rp_factual_error: "内容错误",
    rp_inappropriate: "内容不当", rp_privacy: "隐私", rp_other: "其他", reload: "刷新",
  },
  en: {
    title: "Reports", outcome: "Outcome", empty: "No open reports.", count: "{n} reported resources", reports: "{n} reports by {m} people",
    first: "first {when}", last: "latest {when}", reason: "Reason", detail: "Detail", at: "When",
    uphold: "Uphold", dismiss: "Dismiss", take_down: "and take the resource down", take_down_reason: "Take-down reason",
    by_reports: "the reason most reports gave", note: "Note", resolve: "Resolve", resolved: "Resolved: {title} ({outcome})",
    upheld: "upheld", dismissed: "dismissed", status: "Status", rp_copyright: "copyright", rp_factual_error: "factual error",
    rp_inappropriate: "inappropriate", rp_privacy: "privacy", rp_other: "other", reload: "Reload",
  },
};

export async function render(root, ctx) {
  ensureStyle();
  const t = ctx.t || translator(ctx, strings);
  const tq = translator(ctx, QUEUE_STRINGS);
  const lang = pageLang(ctx);
  const status = statusLine();
  const body = h("div", { id: "reports-list" });
  const counter = h("p", { class: "sk-muted" });
  root.replaceChildren(h("div", { class: "sk-page", id: "moderation-reports" }, h("h1", {}, t("title")),
    h("div", { class: "sk-row" }, counter, h("button", { type: "button", onclick: () => load() }, t("reload"))), status, body));

  async function load() {
    try {
      const reply = await call(ctx, "GET", "/moderation/reports", { query: { page: 1, size: 50 } });
      counter.textContent = t("count", { n: reply.total });
      body.replaceChildren(...(reply.items.length ? reply.items.map(group) : [h("p", {}, t("empty"))]));
    } catch (error) { status.fail(error); }
  }

  function group(entry) {
    const resource = entry.resource;
    const id = `report-${resource.id}`;
    const outcome = select("outcome", [["upheld", t("uphold")], ["dismissed", t("dismiss")]], "upheld", { id: `${id}-outcome` });
    const takeDown = h("input", { type: "checkbox", checked: true, id: `${id}-takedown` });
    const reason = select("reason_code", [["", t("by_reports")], ...REASONS.map((code) => [code, tq(`r_${code}`)])], "",
      { id: `${id}-reason` });
    const note = h("input", { type: "text", maxlength: 2000, id: `${id}-note` });
    const form = h("form", { class: "sk-form", "aria-label": `${t("resolve")}: ${resource.title}` },
      field(t("outcome"), outcome),
      h("label", { class: "sk-field" }, h("span", {}, t("take_down")), takeDown),
      field(t("take_down_reason"), reason), field(t("note"), note),
      h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("resolve"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const upheld = outcome.value === "upheld";
        const reply = await call(ctx, "POST", `/moderation/reports/${resource.id}/resolution`, { json: {
          outcome: outcome.value, note: note.value, take_down: upheld && takeDown.checked,
          reason_code: upheld && takeDown.checked && reason.value ? reason.value : null,
        } });
        status.show(t("resolved", { title: resource.title, outcome: t(reply.outcome) }), "ok");
        await load();
      } catch (error) { status.fail(error); }
    });
    return h("article", { class: "sk-report", "data-resource-id": resource.id, "aria-labelledby": `${id}-h` },
      h("h2", { id: `${id}-h` }, resource.title, h("span", { class: "sk-badge" }, labels(`status_${resource.status}`))),
      h("p", { class: "sk-muted" }, t("reports", { n: entry.open_reports, m: entry.reporters }), " · ",
        Object.entries(entry.reasons).map(([code, n]) => `${t(`rp_${code}`)} ×${n}`).join("，"), " · ",
        t("first", { when: when(entry.first_reported_at, lang) }), " · ", t("last", { when: when(entry.last_reported_at, lang) })),
      table([
        { label: t("reason"), cell: (r) => t(`rp_${r.reason}`) },
        { label: t("detail"), cell: (r) => r.detail || "—" },
        { label: t("at"), cell: (r) => when(r.created_at, lang) },
      ], entry.reports), form);
  }

  await load();
}
